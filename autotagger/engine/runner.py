"""Language-model side of the engine: everything after the 32 query embeddings of each image.

Decoder-only models (OPT): the image prefix (32 query embeddings plus the tokens every prompt
starts with, e.g. OPT's BOS) is prefilled ONCE per image; its KV cache is shared by the caption,
every open question and every answer of every closed question. All prompt suffixes of all images
then run in one forward pass (closed answers scored right there), and the caption and open answers
are decoded greedily together, rows dropping out as they finish.

Encoder-decoder models (Flan-T5): the encoder runs once per (image, prompt); closed answers are
scored with one decoder pass, open prompts and the caption decode greedily with a KV cache.

Greedy decoding here must give, token for token, what ``generate(do_sample=False)`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from autotagger.engine.plan import PromptPlan


@dataclass(frozen=True)
class LMOutput:
    generated: list[list[list[int]]]  # [image][gen prompt] -> new token ids (EOS excluded)
    scores: list[list[list[float]]]  # [image][score prompt][answer] -> sum of log-probs


def _eos_ids(generation_config: Any, fallback: int | None) -> set[int]:
    eos = getattr(generation_config, "eos_token_id", None)
    if eos is None:
        eos = fallback
    if eos is None:
        return set()
    return {int(e) for e in eos} if isinstance(eos, (list, tuple)) else {int(eos)}


class DecoderOnlyRunner:
    def __init__(self, lm: Any, plan: PromptPlan, generation_config: Any, pad_id: int) -> None:
        self.lm = lm
        self.decoder = lm.get_decoder()
        self.lm_head = lm.get_output_embeddings()
        self.embed = lm.get_input_embeddings()
        self.plan = plan
        self.pad_id = pad_id
        self.eos = _eos_ids(generation_config, getattr(lm.config, "eos_token_id", None))
        # Rows per image: generated prompts first, then one row per (closed question, answer).
        seqs: list[tuple[int, ...]] = [g.ids for g in plan.generate]
        self.answer_len: list[int] = [0] * len(plan.generate)
        for s in plan.score:
            for a in s.answer_ids:
                seqs.append(s.ids + a)
                self.answer_len.append(len(a))
        prompt_lens = [len(g.ids) for g in plan.generate] + [len(s.ids) for s in plan.score]
        # Shared text prefix: what every prompt starts with, leaving each prompt >= 1 token of its own.
        k = 0
        limit = min(prompt_lens) - 1
        while k < limit and len({seq[k] for seq in seqs}) == 1:
            k += 1
        self.prefix_ids = seqs[0][:k]
        self.suffixes = [seq[k:] for seq in seqs]
        self.n_gen = len(plan.generate)
        self.max_new = [g.max_new_tokens for g in plan.generate]

    @torch.inference_mode()
    def run(self, query_embeds: torch.Tensor) -> LMOutput:
        device = query_embeds.device
        n_img = query_embeds.shape[0]
        dtype = self.embed.weight.dtype
        query_embeds = query_embeds.to(dtype)

        # 1. Prefill the shared prefix once per image.
        parts = [query_embeds]
        if self.prefix_ids:
            pid = torch.tensor(self.prefix_ids, device=device).unsqueeze(0).expand(n_img, -1)
            parts.append(self.embed(pid))
        prefix = torch.cat(parts, dim=1)
        plen = prefix.shape[1]
        out = self.decoder(inputs_embeds=prefix, use_cache=True)
        cache = out.past_key_values

        # 2. Every row's suffix, left-padded so that all rows end in the same column.
        rows_per_img = len(self.suffixes)
        n_rows = n_img * rows_per_img
        lmax = max(len(s) for s in self.suffixes)
        suffix_ids = torch.full((rows_per_img, lmax), self.pad_id, dtype=torch.long)
        suffix_mask = torch.zeros((rows_per_img, lmax), dtype=torch.long)
        for r, s in enumerate(self.suffixes):
            suffix_ids[r, lmax - len(s) :] = torch.tensor(s)
            suffix_mask[r, lmax - len(s) :] = 1
        suffix_ids = suffix_ids.to(device).repeat(n_img, 1)
        mask = torch.cat(
            [torch.ones((n_rows, plen), dtype=torch.long), suffix_mask.repeat(n_img, 1)], dim=1
        ).to(device)
        image_of_row = torch.arange(n_img, device=device).repeat_interleave(rows_per_img)
        cache.batch_select_indices(image_of_row)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.decoder(
            inputs_embeds=self.embed(suffix_ids),
            attention_mask=mask,
            position_ids=positions[:, plen:],
            past_key_values=cache,
            use_cache=True,
        )
        hidden = out.last_hidden_state  # [n_rows, lmax, H]
        cache = out.past_key_values

        # 3. Closed answers: log-probability of each answer's tokens, from this one pass.
        scores: list[list[list[float]]] = [[[] for _ in self.plan.score] for _ in range(n_img)]
        score_rows = [r for r in range(rows_per_img) if self.answer_len[r] > 0]
        if score_rows:
            rows_idx, cols_idx, targets, owners = [], [], [], []
            for img in range(n_img):
                for r in score_rows:
                    a = self.answer_len[r]
                    seq = self.suffixes[r]
                    for t in range(a):
                        col = lmax - a + t  # column of answer token t
                        rows_idx.append(img * rows_per_img + r)
                        cols_idx.append(col - 1)  # predicted from the previous column
                        targets.append(seq[len(seq) - a + t])
                        owners.append(img * rows_per_img + r)
            sel = hidden[torch.tensor(rows_idx, device=device), torch.tensor(cols_idx, device=device)]
            logp = torch.log_softmax(self.lm_head(sel).float(), dim=-1)
            tok_lp = logp.gather(-1, torch.tensor(targets, device=device).unsqueeze(-1)).squeeze(-1)
            sums = torch.zeros(n_rows, dtype=torch.float32, device=device)
            sums.index_add_(0, torch.tensor(owners, device=device), tok_lp)
            sums_l = sums.tolist()
            for img in range(n_img):
                r = self.n_gen
                for qi, sp in enumerate(self.plan.score):
                    vals = []
                    for _ in sp.answer_ids:
                        vals.append(sums_l[img * rows_per_img + r])
                        r += 1
                    scores[img][qi] = vals

        # 4. Greedy decoding of the caption and open answers, all images together.
        gen_rows = torch.tensor(
            [img * rows_per_img + g for img in range(n_img) for g in range(self.n_gen)], device=device
        )
        generated: list[list[list[int]]] = [[[] for _ in range(self.n_gen)] for _ in range(n_img)]
        if self.n_gen:
            cache.batch_select_indices(gen_rows)
            mask = mask[gen_rows]
            logits = self.lm_head(hidden[gen_rows, -1])
            live = [(img, g) for img in range(n_img) for g in range(self.n_gen)]
            step = 0
            while live:
                next_tok = logits.argmax(-1)
                toks = next_tok.tolist()
                keep = []
                for i, ((img, g), tok) in enumerate(zip(live, toks, strict=True)):
                    if tok in self.eos:
                        continue
                    generated[img][g].append(tok)
                    if len(generated[img][g]) < self.max_new[g]:
                        keep.append(i)
                step += 1
                if not keep:
                    break
                if len(keep) < len(live):
                    keep_t = torch.tensor(keep, device=device)
                    cache.batch_select_indices(keep_t)
                    mask = mask[keep_t]
                    next_tok = next_tok[keep_t]
                    live = [live[i] for i in keep]
                mask = torch.cat([mask, torch.ones((mask.shape[0], 1), dtype=mask.dtype, device=device)], dim=1)
                pos = (mask.sum(-1, keepdim=True) - 1)
                out = self.decoder(
                    inputs_embeds=self.embed(next_tok.unsqueeze(-1)),
                    attention_mask=mask,
                    position_ids=pos,
                    past_key_values=cache,
                    use_cache=True,
                )
                cache = out.past_key_values
                logits = self.lm_head(out.last_hidden_state[:, -1])
        return LMOutput(generated, scores)


class EncoderDecoderRunner:
    """Flan-T5: encoder once per (image, prompt); closed answers scored in one decoder pass."""

    def __init__(self, lm: Any, plan: PromptPlan, generation_config: Any, pad_id: int) -> None:
        self.lm = lm
        self.embed = lm.get_input_embeddings()
        self.plan = plan
        self.pad_id = pad_id
        self.start_id = int(lm.config.decoder_start_token_id if lm.config.decoder_start_token_id is not None else pad_id)
        self.eos = _eos_ids(generation_config, getattr(lm.config, "eos_token_id", None))
        self.prompts: list[tuple[int, ...]] = [g.ids for g in plan.generate] + [s.ids for s in plan.score]
        self.n_gen = len(plan.generate)
        self.max_new = [g.max_new_tokens for g in plan.generate]

    @torch.inference_mode()
    def run(self, query_embeds: torch.Tensor) -> LMOutput:
        from transformers.modeling_outputs import BaseModelOutput

        device = query_embeds.device
        n_img, nq, _ = query_embeds.shape
        dtype = self.embed.weight.dtype
        query_embeds = query_embeds.to(dtype)
        n_p = len(self.prompts)
        lmax = max(len(p) for p in self.prompts)
        ids = torch.full((n_p, lmax), self.pad_id, dtype=torch.long)
        pmask = torch.zeros((n_p, lmax), dtype=torch.long)
        for r, p in enumerate(self.prompts):  # right padding, as the processor pads for T5
            ids[r, : len(p)] = torch.tensor(p)
            pmask[r, : len(p)] = 1
        ids, pmask = ids.to(device), pmask.to(device)
        embeds = torch.cat(
            [query_embeds.repeat_interleave(n_p, dim=0), self.embed(ids).repeat(n_img, 1, 1)], dim=1
        )
        mask = torch.cat([torch.ones((n_img * n_p, nq), dtype=torch.long, device=device), pmask.repeat(n_img, 1)], dim=1)
        enc = self.lm.get_encoder()(inputs_embeds=embeds, attention_mask=mask).last_hidden_state

        scores: list[list[list[float]]] = [[[] for _ in self.plan.score] for _ in range(n_img)]
        if self.plan.score:
            rows, dec_in, targets = [], [], []
            for img in range(n_img):
                for qi, s in enumerate(self.plan.score):
                    for a in s.answer_ids:
                        rows.append(img * n_p + self.n_gen + qi)
                        dec_in.append((self.start_id, *a[:-1]))
                        targets.append(a)
            amax = max(len(t) for t in targets)
            d_ids = torch.full((len(rows), amax), self.pad_id, dtype=torch.long)
            t_ids = torch.full((len(rows), amax), -1, dtype=torch.long)
            for i, (d, t) in enumerate(zip(dec_in, targets, strict=True)):
                d_ids[i, : len(d)] = torch.tensor(d)
                t_ids[i, : len(t)] = torch.tensor(t)
            rows_t = torch.tensor(rows, device=device)
            logits = self.lm(
                encoder_outputs=BaseModelOutput(last_hidden_state=enc[rows_t]),
                attention_mask=mask[rows_t],
                decoder_input_ids=d_ids.to(device),
            ).logits.float()
            logp = torch.log_softmax(logits, dim=-1)
            t_ids = t_ids.to(device)
            tok_lp = logp.gather(-1, t_ids.clamp(min=0).unsqueeze(-1)).squeeze(-1) * (t_ids >= 0)
            sums = tok_lp.sum(-1).tolist()
            i = 0
            for img in range(n_img):
                for qi, s in enumerate(self.plan.score):
                    scores[img][qi] = sums[i : i + len(s.answer_ids)]
                    i += len(s.answer_ids)

        generated: list[list[list[int]]] = [[[] for _ in range(self.n_gen)] for _ in range(n_img)]
        if self.n_gen:
            rows_t = torch.tensor([img * n_p + g for img in range(n_img) for g in range(self.n_gen)], device=device)
            enc_g, mask_g = enc[rows_t], mask[rows_t]
            live = [(img, g) for img in range(n_img) for g in range(self.n_gen)]
            dec = torch.full((len(live), 1), self.start_id, dtype=torch.long, device=device)
            cache = None
            while live:
                out = self.lm(
                    encoder_outputs=BaseModelOutput(last_hidden_state=enc_g),
                    attention_mask=mask_g,
                    decoder_input_ids=dec[:, -1:],
                    past_key_values=cache,
                    use_cache=True,
                )
                cache = out.past_key_values
                next_tok = out.logits[:, -1].argmax(-1)
                keep = []
                for i, ((img, g), tok) in enumerate(zip(live, next_tok.tolist(), strict=True)):
                    if tok in self.eos:
                        continue
                    generated[img][g].append(tok)
                    if len(generated[img][g]) < self.max_new[g]:
                        keep.append(i)
                if not keep:
                    break
                dec = torch.cat([dec, next_tok.unsqueeze(-1)], dim=1)
                if len(keep) < len(live):
                    keep_t = torch.tensor(keep, device=device)
                    cache.batch_select_indices(keep_t)
                    enc_g, mask_g, dec = enc_g[keep_t], mask_g[keep_t], dec[keep_t]
                    live = [live[i] for i in keep]
        return LMOutput(generated, scores)
