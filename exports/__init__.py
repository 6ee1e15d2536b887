"""Reports out of the service: records (what a row says, in full or public-safe) and streaming
writers (CSV, XLSX, JSON lines) that never hold more than a batch of rows in memory."""
