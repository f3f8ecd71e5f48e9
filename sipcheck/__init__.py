"""sipcheck: check SIP registration and see why it fails."""

__version__ = "0.1.0"
