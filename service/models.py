"""Every table, imported in one place so Alembic and tests see the whole schema."""

from catalog import models as catalog_models
from catalog.orm import Base
from service.accounts import models as accounts_models
from service.cases import models as cases_models
from service.clocks import models as clocks_models
from service.districts import models as districts_models
from service.materials import models as materials_models
from service.outbox import models as outbox_models
from service.ratings import models as ratings_models
from service.stats import models as stats_models

metadata = Base.metadata
__all__ = [
    "accounts_models",
    "cases_models",
    "catalog_models",
    "clocks_models",
    "districts_models",
    "materials_models",
    "metadata",
    "outbox_models",
    "ratings_models",
    "stats_models",
]
