"""Work on cases as people see it: intake, the case as each side is shown it, the queue, and
the case API; over cases, clocks, materials and ratings, which know nothing of it."""
