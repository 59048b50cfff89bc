"""ketaplan: plan, book and export ketamine treatment courses."""

__version__ = "0.1.0"
