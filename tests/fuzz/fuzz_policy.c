/* fuzz_policy.c — libFuzzer target: untrusted bytes through the whole policy
 * pipeline (HuJSON strip, cJSON, validation, positions, tests, compile for
 * every node, render). Any crash, leak or UB is a bug. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "compile.h"
#include "policy.h"
#include "ptest.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_opts po = { .now = 1764000000 };
	struct compile_opts co = { .now = 1764000000 };
	struct diags d;
	struct policy *p;
	size_t checked;

	diags_init(&d);
	p = policy_load((const char *)data, size, &po, &d);
	if (p) {
		ptest_run(p, co.now, &d, &checked);
		policy_diags_locate((const char *)data, size, &d);
		for (size_t n = 0; n < p->nnodes && n < 4; n++) {
			struct ir *ir = compile_node(p, n, &co);
			FILE *f = fopen("/dev/null", "w");

			if (f) {
				render_ir(ir, f);
				fclose(f);
			}
			ir_free(ir);
		}
	}
	for (size_t i = 0; i < d.n; i++) {
		char line[512];

		diag_format(&d.v[i], "fuzz.json", line, sizeof(line));
	}
	policy_free(p);
	diags_free(&d);
	return 0;
}
