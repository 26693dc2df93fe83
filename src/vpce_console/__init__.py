"""vpce-console: the on-call console for a centralized fleet of AWS interface VPC endpoints."""

__version__ = "0.1.0"
