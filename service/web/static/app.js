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
