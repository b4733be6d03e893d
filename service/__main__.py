"""`python -m service <command>`: the operator CLI, with the app's configuration."""

from flask.cli import FlaskGroup

from service.app import create_app

cli = FlaskGroup(create_app=create_app, add_default_commands=True)

if __name__ == "__main__":
    cli(prog_name="python -m service")
