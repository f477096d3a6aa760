"""Image uploads and processing."""
