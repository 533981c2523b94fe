"""autotagger.metadata."""
