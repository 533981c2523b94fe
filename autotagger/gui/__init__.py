"""autotagger.gui."""
