"""Mail-operations services. Each module owns one area; views and tasks call them."""
