"""A person's edits: caption and tags. They are stored as such and win over the model's on re-tagging."""

from __future__ import annotations

from collections.abc import Sequence

from autotagger.catalog.cjkindex import CjkMixin
from autotagger.catalog.errors import CatalogError
from autotagger.catalog.query import normalise_tag
from autotagger.catalog.schema import now_iso
from autotagger.text import storable


def _clean(tags: Sequence[str]) -> list[str]:
    if isinstance(tags, str):
        raise CatalogError("tags must be a list of strings, not one string")
    out = []
    for t in tags:
        path = normalise_tag(t)
        if not path:
            raise CatalogError(f"empty tag {t!r}")
        if not path.isprintable():  # a keyword is one line in every field and tool that reads it
            raise CatalogError(f"a tag cannot hold tabs, line breaks or control characters: {t!r}")
        out.append(path)
    return out


class EditsMixin(CjkMixin):
    def set_caption(self, key: int | str, text: str) -> None:
        """A person's caption: kept across re-tags until the person changes it again. Kept as the
        file will hold it (autotagger.text.storable): the catalogue and the file agree on what was saved."""
        with self._write() as c:
            image_id = self._image_id(key)
            c.execute(
                "UPDATE images SET model_caption = CASE WHEN caption_source = 'model' THEN caption "
                "ELSE model_caption END, caption = ?, caption_source = 'person', updated_at = ? WHERE id = ?",
                (storable(text, caption=True), now_iso(), image_id),
            )
            self._reindex_cjk(image_id)

    def add_tags(self, key: int | str, tags: Sequence[str]) -> None:
        """A person adds tags (``a|b`` hierarchy paths allowed); they stay across re-tags."""
        paths = _clean(tags)
        with self._write() as c:
            image_id = self._image_id(key)
            for path in paths:
                tid = self._tag_id(path)
                ids = self._twins(tid)  # the image may carry the tag under a spelling a v4 catalogue kept
                marks = ",".join("?" * len(ids))
                c.execute(f"DELETE FROM removed_tags WHERE image_id = ? AND tag_id IN ({marks})", (image_id, *ids))
                cur = c.execute(
                    "UPDATE image_tags SET source = 1, conf = NULL, question_ref = NULL "
                    f"WHERE image_id = ? AND tag_id IN ({marks})",
                    (image_id, *ids),
                )
                if cur.rowcount == 0:
                    c.execute("INSERT INTO image_tags (image_id, tag_id, source) VALUES (?, ?, 1)", (image_id, tid))
                    self._count_tags([tid], +1)
            self._refresh_tags_text(image_id)

    def remove_tags(self, key: int | str, tags: Sequence[str]) -> None:
        """A person removes tags (the model's or their own); the model cannot bring them back."""
        paths = _clean(tags)
        with self._write() as c:
            image_id = self._image_id(key)
            for path in paths:
                tid = self._tag_id(path)
                ids = self._twins(tid)  # every spelling of the tag goes
                gone = c.execute(
                    f"DELETE FROM image_tags WHERE image_id = ? AND tag_id IN ({','.join('?' * len(ids))}) "
                    "RETURNING tag_id",
                    (image_id, *ids),
                ).fetchall()
                self._count_tags([int(r[0]) for r in gone], -1)
                c.execute("INSERT OR IGNORE INTO removed_tags (image_id, tag_id) VALUES (?, ?)", (image_id, tid))
            self._refresh_tags_text(image_id)

    def forget_model_results(self, key: int | str) -> bool:
        """`undo` took our caption and tags out of the file: they leave the catalogue too (the model's
        tags and caption, its answers, and which model and question set gave them, so that no copy
        takes this empty result for its own). A person's caption and tags stay. The image stays done:
        the service does not tag it again by itself (its file's next change does, or "Tag again").
        False: the catalogue does not know the image (only its file had our tags)."""
        with self._write() as c:
            try:
                image_id = self._image_id(key)
            except CatalogError:
                return False
            ids = [
                int(r[0])
                for r in c.execute("SELECT tag_id FROM image_tags WHERE image_id = ? AND source = 0", (image_id,))
            ]
            c.execute("DELETE FROM image_tags WHERE image_id = ? AND source = 0", (image_id,))
            self._count_tags(ids, -1)
            c.execute(
                "UPDATE images SET caption = CASE WHEN caption_source = 'person' THEN caption ELSE '' END, "
                "caption_source = CASE WHEN caption_source = 'person' THEN 'person' ELSE '' END, "
                "model_caption = NULL, answers = NULL, model_ref = NULL, question_set_version = '', "
                "updated_at = ? WHERE id = ?",
                (now_iso(), image_id),
            )
            self._refresh_tags_text(image_id)  # indexes the caption's CJK too
        return True

    def removed_tags(self, key: int | str) -> tuple[str, ...]:
        """The tags a person removed from this image (the model may not bring them back); () for
        an image the catalogue does not know."""
        try:
            image_id = self._image_id(key)
        except CatalogError:
            return ()
        rows = self._conn.execute(
            "SELECT n.path FROM removed_tags r JOIN tag_names n ON n.id = r.tag_id WHERE r.image_id = ? ORDER BY n.path",
            (image_id,),
        )
        return tuple(str(r[0]) for r in rows)

    def _refresh_tags_text(self, image_id: int) -> None:
        c = self._conn
        paths = [
            str(r[0])
            for r in c.execute(
                "SELECT n.path FROM image_tags t JOIN tag_names n ON n.id = t.tag_id WHERE t.image_id = ?",
                (image_id,),
            )
        ]
        c.execute(
            "UPDATE images SET tags_text = ?, updated_at = ? WHERE id = ?",
            ("\n".join(sorted(paths, key=str.lower)), now_iso(), image_id),
        )
        self._reindex_cjk(image_id)
