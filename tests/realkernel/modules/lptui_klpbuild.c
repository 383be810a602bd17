// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch in klp-build's layout (Linux 6.19+), written for 6.1 and 6.12: the tables objtool's
 * klp-diff emits (struct klp_object_ext / klp_func_ext of include/linux/livepatch_external.h, in
 * .init.klp_objects / .init.klp_funcs, their strings in .rodata.klp.str1.1, no name pointer for
 * vmlinux), and an init that does what scripts/livepatch/init.c does: one klp_object and klp_func per
 * record, kzalloc'd, then klp_enable_patch(). 6.19's init.c finds the table with
 * klp_find_section_by_name(), which older kernels lack: here the table is named directly.
 * The new functions keep the old names, as klp-build's do.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/utsname.h>

struct klp_func_ext {
	const char *old_name;
	void *new_func;
	unsigned long sympos;
};

struct klp_object_ext {
	const char *name;
	struct klp_func_ext *funcs;
	struct klp_callbacks callbacks;
	unsigned int nr_funcs;
};

#define KLP_STR __section(".rodata.klp.str1.1")
static const char s_cmdline[] KLP_STR = "cmdline_proc_show";
static const char s_version[] KLP_STR = "version_proc_show";
static const char s_target[] KLP_STR = "lptui_target";
static const char s_sleep[] KLP_STR = "lptui_target_sleep";

/* the new functions, named as the old ones (objtool keeps the twin's name) */
static noinline int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "lptui_klpbuild\n");
	return 0;
}

static noinline int version_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "lptui_klpbuild %s\n", utsname()->release);
	return 0;
}

static noinline void lptui_target_sleep(void)
{
}

static noinline int lptui_klpbuild_pre_patch(struct klp_object *obj)
{
	pr_info("lptui_klpbuild: pre_patch %s\n", obj->name ? obj->name : "vmlinux");
	return 0;
}

static struct klp_func_ext klp_funcs[] __section(".init.klp_funcs") __used = {
	{ s_cmdline, cmdline_proc_show, 0 },
	{ s_version, version_proc_show, 0 },
	{ s_sleep, lptui_target_sleep, 0 },
};

static struct klp_object_ext klp_objects[] __section(".init.klp_objects") __used = {
	{ NULL, &klp_funcs[0], {}, 2 },
	{ s_target, &klp_funcs[2], { .pre_patch = lptui_klpbuild_pre_patch }, 1 },
};

static struct klp_patch *patch;

static void free_patch(struct klp_object *objs, unsigned int nr_objs)
{
	unsigned int i;

	for (i = 0; objs && i < nr_objs; i++)
		kfree(objs[i].funcs);
	kfree(objs);
	kfree(patch);
}

static int __init lptui_klpbuild_init(void)
{
	unsigned int nr_objs = ARRAY_SIZE(klp_objects), i, j;
	struct klp_object *objs;
	int ret;

	patch = kzalloc(sizeof(*patch), GFP_KERNEL);
	objs = kcalloc(nr_objs + 1, sizeof(*objs), GFP_KERNEL);
	if (!patch || !objs) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < nr_objs; i++) {
		struct klp_object_ext *ext = &klp_objects[i];
		struct klp_func *funcs = kcalloc(ext->nr_funcs + 1, sizeof(*funcs), GFP_KERNEL);

		if (!funcs) {
			ret = -ENOMEM;
			goto err;
		}
		for (j = 0; j < ext->nr_funcs; j++) {
			funcs[j].old_name = ext->funcs[j].old_name;
			funcs[j].new_func = ext->funcs[j].new_func;
			funcs[j].old_sympos = ext->funcs[j].sympos;
		}
		objs[i].name = ext->name;
		objs[i].funcs = funcs;
		objs[i].callbacks = ext->callbacks;
	}
	patch->mod = THIS_MODULE;
	patch->objs = objs;
	patch->replace = true; /* klp-build's default; -DKLP_NO_REPLACE sets false */
	ret = klp_enable_patch(patch);
	if (ret)
		goto err;
	return 0;
err:
	free_patch(objs, nr_objs);
	return ret;
}

static void __exit lptui_klpbuild_exit(void)
{
	free_patch(patch ? patch->objs : NULL, ARRAY_SIZE(klp_objects));
}

module_init(lptui_klpbuild_init);
module_exit(lptui_klpbuild_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch module");
MODULE_INFO(livepatch, "Y");
