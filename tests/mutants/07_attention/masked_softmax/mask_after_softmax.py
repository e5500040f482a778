# MUTANT: softmax over every entry, then masked entries set to zero (the rest no longer sum to 1)
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    if mask is not None:
        p = p * np.asarray(mask)
    return p.astype(scores.dtype)
