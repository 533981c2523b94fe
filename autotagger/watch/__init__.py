"""autotagger.watch."""
