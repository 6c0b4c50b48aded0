"""Human-facing reports: HTML pages with tables and pictures, readable offline."""

from sonotype.report.project_report import write_project_report

__all__ = ["write_project_report"]
