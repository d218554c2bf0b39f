"""Who is calling (client certificates) and the development PKI."""
