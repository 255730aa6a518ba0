"""A small shop: a catalog and invoices. It knows nothing of pmnc_hook."""
