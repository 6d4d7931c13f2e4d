"""Custom tracking domains: DNS verification, ACME certificates, renewal."""
