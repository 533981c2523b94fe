"""Writing captions and keywords into photographs (XMP, IPTC, EXIF) and sidecars, safely."""

from autotagger.metadata.model import (
    NS_AUTOTAGGER,
    RAW_EXTENSIONS,
    FileChangedError,
    MetadataError,
    MetadataRecord,
    Provenance,
    ReadBack,
    UnsafeToEmbed,
    WriteOutcome,
    record_from_result,
    sidecar_path,
)
from autotagger.metadata.writer import MODES, read_metadata, undo_metadata, write_metadata

__all__ = [
    "MODES",
    "NS_AUTOTAGGER",
    "RAW_EXTENSIONS",
    "FileChangedError",
    "MetadataError",
    "MetadataRecord",
    "Provenance",
    "ReadBack",
    "UnsafeToEmbed",
    "WriteOutcome",
    "read_metadata",
    "record_from_result",
    "sidecar_path",
    "undo_metadata",
    "write_metadata",
]
