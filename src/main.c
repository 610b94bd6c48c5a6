/* main.c - siphon's entry point (main thread): the command line, then the
 * lists, then the engine thread, then the screen or the headless front end.
 * Usage and list errors exit 2 before anything is downloaded. */
#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "siphon/args.h"
#include "siphon/cfg.h"
#include "siphon/engine.h"
#include "siphon/headless.h"
#include "siphon/mbox.h"
#include "siphon/ui.h"
#include "siphon/version.h"

/* The retry jitter (rand() on the engine thread) must differ from run to
 * run and process to process, or many siphons retry in lockstep. */
static void seed_jitter(void)
{
  unsigned seed = 0;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec ^ ((unsigned)getpid() << 16);
  }
  srand(seed);
}

/* Each transfer's easy handle allocates curl's receive buffer (up to
 * 512 KiB) and frees it when the file is done.  glibc's default is to
 * give a freed block that size back to the kernel (munmap, or trimming
 * the heap) and to fault fresh zeroed pages in for the next file: on a
 * list of small files that was 17-27 % of siphon's CPU.  Fixed thresholds
 * keep such blocks in the heap for reuse; blocks from 4 MiB up (large
 * --buffer-size buffers, the loader's big arrays) are still mapped apart
 * and returned when freed.  glibc also gives each thread that mallocs an
 * arena of its own, up to 8 per core, and with these thresholds an arena
 * keeps what it had: the disk side's 16 threads (engine.c) each took
 * one, 0.4 MiB more RSS on a queue of small files than with 4.  Four
 * arenas (main, front end, engine, one for the disk threads to share,
 * which malloc little) keep that flat. */
static void malloc_tune(void)
{
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
  mallopt(M_ARENA_MAX, 4);
}

/* The headless front end prints names it need not copy: the plan's items
 * are ids 1..nitems (headless has no "add a URL") and live to the end. */
static const char *plan_name(const void *ctx, uint32_t id)
{
  const struct cfg_plan *plan = ctx;
  return id >= 1 && id <= plan->nitems ? plan->items[id - 1].name : NULL;
}

static int usage_error(const char *msg)
{
  fprintf(stderr, "siphon: %s (see siphon --help)\n", msg);
  return 2;
}

int main(int argc, char **argv)
{
  struct args args;
  struct cfg_plan plan;
  struct mbox *mb = NULL;
  struct engine *eng = NULL;
  char err[CFG_ERR_MAX];
  int rc;

  setlocale(LC_ALL, "");
  seed_jitter();
  if (args_parse(&args, argc, argv, err, sizeof err) != 0)
    return usage_error(err);
  if (args.help) {
    fputs(args_usage(), stdout);
    args_free(&args);
    return 0;
  }
  if (args.version) {
    printf("siphon %s (%s)\n", SIPHON_VERSION, curl_version());
    args_free(&args);
    return 0;
  }
  int headless = args.headless || args.json || !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO);
  if (!headless && !ui_term_usable(err, sizeof err)) {
    /* A terminal curses cannot drive: text beats a blank screen. */
    fprintf(stderr, "siphon: %s; printing progress as text instead\n", err);
    headless = 1;
  }
  if (headless && args.ninputs == 0) {
    args_free(&args);
    return usage_error("nothing to download: give a list file, a URL, or - for stdin");
  }
  if (cfg_plan_load(&plan, &args.cli, args.config, args.no_config, args.inputs, args.ninputs, err,
                    sizeof err) != 0) {
    fprintf(stderr, "siphon: %s\n", err);
    args_free(&args);
    return 2;
  }
  /* after the load: its growing arrays (80,000 items: a few MiB each) are
     mapped apart and given back under glibc's own thresholds, so the load
     does not raise the peak of a long queue (issue 9) */
  malloc_tune();
  if (cfg_plan_insecure(&plan))
    fprintf(stderr, "siphon: warning: --insecure: TLS certificates are not checked\n");
  struct ui_options uo = {.theme = plan.run.theme,
                          .argv0 = argv[0],
                          .dir = plan.run.dir,
                          .overwrite = plan.add_defaults.overwrite,
                          .ring_bell = plan.run.bell};
  if (!headless && ui_theme_check(&uo, err, sizeof err) != 0) {
    fprintf(stderr, "siphon: %s\n", err);
    cfg_plan_free(&plan);
    args_free(&args);
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "siphon: cannot initialise libcurl\n");
    rc = 1;
    goto out;
  }
  mb = mbox_new();
  if (!mb) {
    perror("siphon: mailbox");
    rc = 1;
    goto out;
  }
  if (engine_new(&eng, &plan, mb, err, sizeof err) != 0) {
    fprintf(stderr, "siphon: %s\n", err);
    rc = 2;
    goto out;
  }
  if (engine_start(eng) != 0) {
    fprintf(stderr, "siphon: cannot start the engine thread\n");
    rc = 1;
    goto out;
  }
  if (headless) {
    rc = headless_run(mb, args.json, plan_name, &plan);
  } else {
    rc = ui_run(mb, &uo);
  }
out:
  engine_free(eng);
  mbox_free(mb);
  curl_global_cleanup();
  cfg_plan_free(&plan);
  args_free(&args);
  return rc;
}
