"""autotagger.catalog."""
