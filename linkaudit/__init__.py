"""linkaudit: SEO and internal-link auditing crawler."""

__version__ = "0.1.0"
