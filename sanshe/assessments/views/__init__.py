"""Pages of the assessment app: workflow, on-site form, report, oversight lists."""
