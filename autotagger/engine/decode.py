"""Greedy decoding of OPT rows over a KV cache of fixed shape, optionally replayed as a CUDA graph.

The dynamic path (``DecoderOnlyRunner``) grows the cache with a concatenation per layer and step,
which copies the whole cache every token, and launches a few hundred small kernels per token from
Python. Here every decode step has the same shapes: each row's keys and values live in buffers
sized for the longest answer, each step writes one column (``index_copy_`` at a position held in a
device tensor) and a boolean mask says which columns a row may see. Fixed shapes let the step be
captured once as a CUDA graph and replayed per token (one launch instead of hundreds).

Rows never leave the buffers mid-step; a row that is done keeps computing until so many rows are
done that the live ones are copied into a smaller state (``compact``), so the caption's long tail
does not drag the short open answers along. Each row's arithmetic is independent of the others, so
the tokens equal the dynamic path's (and ``generate``'s).

Only OPT decoders with SDPA or eager attention are handled (``supports``); anything else uses the
dynamic path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from autotagger.config import DECODE_MODES
from autotagger.engine.hfcompat import cache_kwarg

# The modes: "dynamic" (DecoderOnlyRunner's own loop, the cache grown per token), "static" (fixed
# shapes, eager), "graph" (fixed shapes, CUDA graph replay; eager where a capture fails).


def supports(lm: Any) -> bool:
    """Whether ``lm`` (a causal LM with its head) can run the fixed-shape decoder."""
    cfg = getattr(lm, "config", None)
    decoder = lm.get_decoder() if hasattr(lm, "get_decoder") else None
    return (
        cfg is not None
        and getattr(cfg, "model_type", "") == "opt"
        and getattr(cfg, "_attn_implementation", None) in ("sdpa", "eager")
        and decoder is not None
        and hasattr(decoder, "layers")
        and hasattr(decoder, "embed_positions")
    )


def resolve_mode(mode: str, lm: Any, device: str, *, quantized: bool) -> str:
    """The mode to run: "auto" is a CUDA graph on CUDA, the dynamic cache elsewhere and for
    quantized models (whose kernels may not capture); on the CPU fixed shapes measured the same
    as the dynamic cache (1.47 s vs 1.46 s per 8-image batch, small arch), so they gain nothing
    there. Models the fixed-shape decoder does not handle: dynamic."""
    if mode not in DECODE_MODES:
        raise ValueError(f"decode mode must be one of {', '.join(DECODE_MODES)}, not {mode!r}")
    if mode == "dynamic" or not supports(lm):
        return "dynamic"
    if mode == "auto":
        return "graph" if device.startswith("cuda") and not quantized else "dynamic"
    if mode == "graph" and not device.startswith("cuda"):
        return "static"
    return mode


class FixedKV:
    """Per-layer key/value buffers [rows, heads, length, head_dim]; ``update`` writes column ``col``.

    It stands where transformers passes a ``Cache`` to the attention layers: they call
    ``update(key, value, layer_idx, ...)`` and attend over what it returns."""

    def __init__(self, keys: list[torch.Tensor], values: list[torch.Tensor], col: torch.Tensor) -> None:
        self.keys = keys
        self.values = values
        self.col = col  # [1] long, on the device: the column this step writes

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.keys[layer_idx], self.values[layer_idx]
        k.index_copy_(2, self.col, key)
        v.index_copy_(2, self.col, value)
        return k, v


@dataclass
class _State:
    """Everything one decode step reads and writes, as device tensors of fixed shape."""

    kv: FixedKV
    mask: torch.Tensor  # [R, 1, 1, L] bool (SDPA) or additive float (eager)
    tok: torch.Tensor  # [R] long: the token this step feeds
    pos: torch.Tensor  # [R, 1] long: its position id
    out: torch.Tensor  # [R] long: the token this step predicts
    graph: Any = None

    @property
    def rows(self) -> int:
        return int(self.tok.shape[0])


class FixedShapeDecoder:
    """Greedy decoding of OPT rows with fixed shapes; see the module's docstring."""

    def __init__(self, lm: Any, *, use_graphs: bool) -> None:
        self.decoder = lm.get_decoder()
        self.lm_head = lm.get_output_embeddings()
        self.embed = lm.get_input_embeddings()
        self.sdpa = lm.config._attn_implementation == "sdpa"
        self.use_graphs = use_graphs
        self.cache_kw = cache_kwarg(self.decoder.layers[0])
        self.graph_failures = 0
        # With graphs, states (and their captured graphs) are kept by shape and reused by the next
        # batch of the same shape: a capture costs about one step, a batch has a few dozen.
        self._states: dict[tuple[int, int, int], _State] = {}

    def release(self) -> None:
        """Drop the kept states and graphs (after an out-of-memory error, say)."""
        self._states.clear()

    # ------------------------------------------------------------------ one step
    def _step(self, s: _State) -> None:
        """Feed ``s.tok`` at column ``s.kv.col``; predict ``s.out``. Advances col and pos."""
        d = self.decoder
        if self.sdpa:
            s.mask.index_fill_(3, s.kv.col, True)
        else:
            s.mask.index_fill_(3, s.kv.col, 0.0)
        h = self.embed(s.tok.unsqueeze(-1))
        if getattr(d, "project_in", None) is not None:
            h = d.project_in(h)
        h = h + torch.nn.Embedding.forward(d.embed_positions, s.pos + d.embed_positions.offset)
        for layer in d.layers:
            o = layer(h, attention_mask=s.mask, position_ids=s.pos, use_cache=True, **{self.cache_kw: s.kv})
            h = o[0] if isinstance(o, tuple) else o
        if getattr(d, "final_layer_norm", None) is not None:
            h = d.final_layer_norm(h)
        if getattr(d, "project_out", None) is not None:
            h = d.project_out(h)
        s.out.copy_(self.lm_head(h[:, -1]).argmax(-1))
        s.kv.col.add_(1)
        s.pos.add_(1)

    def _run_step(self, s: _State) -> None:
        if s.graph is not None:
            s.graph.replay()
            return
        self._step(s)  # eager; on CUDA it also warms the kernels up for the capture
        if self.use_graphs:
            self._capture(s)

    def _capture(self, s: _State) -> None:
        """Record the step as a CUDA graph, replayed from the next token on. Capturing runs
        nothing; a step that cannot be captured (a kernel that syncs with the host, say) turns
        graphs off for this decoder and decoding goes on eagerly."""
        g = torch.cuda.CUDAGraph()
        try:
            # thread_local: CUDA calls on other threads (the GUI's, say) do not break the capture.
            with torch.cuda.graph(g, capture_error_mode="thread_local"):
                self._step(s)
        except Exception:
            self.graph_failures += 1
            self.use_graphs = False
            self._states.clear()
            return
        s.graph = g

    # ------------------------------------------------------------------ the loop
    def decode(
        self,
        cache: Any,
        mask2d: torch.Tensor,
        first: torch.Tensor,
        owners: list[tuple[int, int]],
        max_new: list[int],
        eos: set[int],
        n_img: int,
        n_gen: int,
    ) -> list[list[list[int]]]:
        """Decode the rows ``owners[r] = (image, prompt)`` of ``cache`` (a transformers cache whose
        rows are exactly these, ``mask2d`` [R, L0] their 0/1 mask; it is consumed), ``first`` [R]
        their first predicted token. Returns new token ids per image and prompt, EOS excluded."""
        generated: list[list[list[int]]] = [[[] for _ in range(n_gen)] for _ in range(n_img)]
        budget = [max_new[g] for _, g in owners]
        live = list(range(len(owners)))  # rows of the current state still decoding
        toks = first.tolist()
        rows_of = list(range(len(owners)))  # state row -> owner index
        steps_left = max(budget) - 1
        still = self._record(toks, rows_of, live, owners, generated, budget, eos)
        if not still or steps_left <= 0:
            return generated
        s = self._new_state(cache, mask2d, first, steps_left)
        live = still
        while True:
            self._run_step(s)
            toks = s.out.tolist()
            still = self._record(toks, rows_of, live, owners, generated, budget, eos)
            if not still:
                return generated
            live = still
            s.tok.copy_(s.out)
            if 2 * len(live) <= s.rows:
                # With graphs the smaller state's rows are rounded up to a power of two (repeats
                # of a live row, never read), so that few shapes, hence few captures, occur.
                n = len(live) if not self.use_graphs else 1 << (len(live) - 1).bit_length()
                picked = live + [live[0]] * (n - len(live))
                s = self._compact(s, picked)
                rows_of = [rows_of[r] for r in picked]
                live = list(range(len(live)))

    @staticmethod
    def _record(
        toks: list[int],
        rows_of: list[int],
        live: list[int],
        owners: list[tuple[int, int]],
        generated: list[list[list[int]]],
        budget: list[int],
        eos: set[int],
    ) -> list[int]:
        """Append each live row's token; the state rows that go on decoding."""
        still = []
        for r in live:
            tok = toks[r]
            o = rows_of[r]
            if tok in eos:
                continue
            i, g = owners[o]
            generated[i][g].append(tok)
            if len(generated[i][g]) < budget[o]:
                still.append(r)
        return still

    def _new_state(self, cache: Any, mask2d: torch.Tensor, first: torch.Tensor, steps: int) -> _State:
        rows, l0 = mask2d.shape
        layers = cache.layers
        k0 = layers[0].keys
        s = self._state_for(rows, l0 + steps, l0, k0.shape[1], k0.shape[3], len(layers), k0.dtype, first.device)
        for layer, kb, vb in zip(layers, s.kv.keys, s.kv.values, strict=True):
            kb[:, :, :l0].copy_(layer.keys)
            vb[:, :, :l0].copy_(layer.values)
        layers.clear()  # the caller's cache is consumed: its memory goes back before decoding
        valid = torch.zeros(s.mask.shape, dtype=torch.bool, device=first.device)
        valid[:, 0, 0, :l0] = mask2d.bool()
        if self.sdpa:
            s.mask.copy_(valid)
        else:
            s.mask.zero_().masked_fill_(~valid, torch.finfo(s.mask.dtype).min)
        s.kv.col.fill_(l0)
        s.pos.copy_(mask2d.sum(-1, keepdim=True))  # the first fed token's position: the row's length
        s.tok.copy_(first)
        return s

    def _state_for(
        self, rows: int, length: int, l0: int, heads: int, head_dim: int, n_layers: int, dtype: torch.dtype,
        device: torch.device,
    ) -> _State:
        """A state of this shape: the kept one (with its graph) when graphs are on, else a new one.
        Its buffers' contents are the caller's to fill; stale columns are masked out."""
        key = (rows, length, l0)
        if self.use_graphs and key in self._states:
            return self._states[key]
        shape = (rows, heads, length, head_dim)
        kv = FixedKV(
            [torch.zeros(shape, dtype=dtype, device=device) for _ in range(n_layers)],
            [torch.zeros(shape, dtype=dtype, device=device) for _ in range(n_layers)],
            torch.tensor([l0], dtype=torch.long, device=device),
        )
        mask_dtype = torch.bool if self.sdpa else dtype
        tok = torch.zeros(rows, dtype=torch.long, device=device)
        s = _State(kv, torch.zeros((rows, 1, 1, length), dtype=mask_dtype, device=device), tok,
                   torch.zeros((rows, 1), dtype=torch.long, device=device), torch.zeros_like(tok))
        if self.use_graphs:
            if len(self._states) >= 8:  # shapes keep changing: let the old ones go
                self._states.clear()
            self._states[key] = s
        return s

    def _compact(self, s: _State, rows: list[int]) -> _State:
        """A state holding the state rows ``rows`` of ``s`` (repeats allowed), in that order."""
        idx = torch.tensor(rows, dtype=torch.long, device=s.tok.device)
        k0 = s.kv.keys[0]
        length = int(k0.shape[2])
        col = s.kv.col.clone()
        new = self._state_for(len(rows), length, -1, k0.shape[1], k0.shape[3], len(s.kv.keys), k0.dtype, k0.device)
        for src, dst in zip(s.kv.keys + s.kv.values, new.kv.keys + new.kv.values, strict=True):
            torch.index_select(src, 0, idx, out=dst)
        torch.index_select(s.mask, 0, idx, out=new.mask)
        torch.index_select(s.tok, 0, idx, out=new.tok)
        torch.index_select(s.pos, 0, idx, out=new.pos)
        new.kv.col.copy_(col)
        return new
