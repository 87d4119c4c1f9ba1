/* render.h — IR → nft text, loadable by `nft -f`. */
#ifndef RULES_RENDER_H
#define RULES_RENDER_H

#include <stdio.h>

#include "ir.h"

/* 0 or -EIO. Deterministic: the same IR always prints the same bytes. */
int render_ir(const struct ir *ir, FILE *f);

#endif
