# MUTANT: cosine period is total_steps instead of total_steps - warmup_steps (never reaches eta_min)
def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    if step >= total_steps:
        return float(eta_min)
    progress = (step - warmup_steps) / total_steps
    return eta_min + 0.5 * (base_lr - eta_min) * (1 + math.cos(math.pi * progress))
