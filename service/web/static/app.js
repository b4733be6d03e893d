// Small keyboard and print helpers; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  // Put the keyboard where the errors are, so the clerk hears and sees them first.
  const errors = document.querySelector("[data-focus]");
  if (errors) errors.focus();
  // "/" jumps to the page's search box, as in many office tools.
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    const search = document.querySelector("input[accesskey=s]");
    if (event.key === "/" && !typing && search) {
      event.preventDefault();
      search.focus();
    }
  });
});

// A second click on a submit button would post the form twice (with its scans stored twice):
// the first click disables the form's buttons until the next page arrives.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method !== "post") return;
  setTimeout(() => {
    for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
  }, 0);
});
