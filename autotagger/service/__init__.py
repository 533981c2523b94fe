"""autotagger.service."""
