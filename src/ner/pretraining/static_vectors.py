"""Static subword vectors for initialising a new encoder's embeddings: PPMI + truncated SVD.

A randomly initialised small BERT spends most of a CPU budget learning which tokens are alike. Positive PMI over
a symmetric window, factorised by SVD, gives vectors close to skip-gram's (Levy & Goldberg 2014) in about a
minute, with no extra dependency; they are rescaled to BERT's initialisation scale before training starts.
"""
from __future__ import annotations

import numpy as np


def cooccurrence(blocks: list[list[int]], vocab_size: int, window: int = 4):
    """Sparse symmetric co-occurrence counts (weighted 1/distance) over token-id sequences."""
    from scipy import sparse

    rows, cols, vals = [], [], []
    for seq in blocks:
        a = np.asarray(seq, dtype=np.int64)
        for d in range(1, window + 1):
            if len(a) <= d:
                break
            rows += [a[:-d], a[d:]]
            cols += [a[d:], a[:-d]]
            w = np.full(len(a) - d, 1.0 / d, dtype=np.float32)
            vals += [w, w]
    if not rows:
        return sparse.csr_matrix((vocab_size, vocab_size), dtype=np.float32)
    m = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(vocab_size, vocab_size), dtype=np.float32)
    return m.tocsr()


def ppmi_svd(counts, dim: int, shift: float = 1.0, alpha: float = 0.75, seed: int = 0) -> np.ndarray:
    """``vocab x dim`` vectors from the shifted positive PMI of ``counts`` (context smoothing ``alpha``)."""
    from sklearn.decomposition import TruncatedSVD

    counts = counts.tocoo()
    row = np.asarray(counts.sum(axis=1)).ravel()
    col = np.asarray(counts.sum(axis=0)).ravel() ** alpha
    col_total = col.sum()
    with np.errstate(divide="ignore"):
        pmi = np.log(counts.data * col_total / (row[counts.row] * col[counts.col] + 1e-12))
    pmi = pmi - np.log(shift)
    keep = pmi > 0
    from scipy import sparse

    ppmi = sparse.csr_matrix((pmi[keep], (counts.row[keep], counts.col[keep])), shape=counts.shape)
    k = min(dim, min(ppmi.shape) - 1)
    svd = TruncatedSVD(n_components=k, random_state=seed, algorithm="randomized", n_iter=5)
    u = svd.fit_transform(ppmi)  # = U * S
    vecs = u / np.sqrt(np.maximum(svd.singular_values_, 1e-8))  # U * sqrt(S), the usual symmetric weighting
    if k < dim:
        vecs = np.hstack([vecs, np.zeros((vecs.shape[0], dim - k), dtype=vecs.dtype)])
    return vecs.astype(np.float32)


def init_embeddings(model, blocks: list[list[int]], window: int = 4, std: float = 0.02, seed: int = 0) -> int:
    """Overwrite ``model``'s word embeddings with rescaled PPMI-SVD vectors for tokens seen in ``blocks``.
    Returns how many rows were initialised; unseen tokens keep their random initialisation."""
    import torch

    emb = model.get_input_embeddings()
    vocab, dim = emb.weight.shape
    counts = cooccurrence(blocks, vocab, window)
    vecs = ppmi_svd(counts, dim, seed=seed)
    seen = np.asarray(counts.sum(axis=1)).ravel() > 0
    vecs = vecs[seen]
    vecs = (vecs - vecs.mean(axis=0)) / (vecs.std() + 1e-8) * std
    with torch.no_grad():
        emb.weight[torch.from_numpy(np.nonzero(seen)[0])] = torch.from_numpy(vecs)
    return int(seen.sum())
