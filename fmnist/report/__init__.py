"""The report family: reports/report.md and .html from what the stages wrote, beside the course reports' numbers."""
