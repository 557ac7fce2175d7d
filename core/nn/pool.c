/*
 * pool.c - a fixed pool of worker threads. Task t always runs on thread t % threads, so
 * any per-thread partial result is reproducible for a given thread count (determinism).
 * A decoder pass is a chain of short parallel steps, so waiting spins briefly before it
 * blocks on a condition variable: a wake-up then costs no system call.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "nn.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#if defined(__SSE2__)
#define HN_MXCSR_FTZ_DAZ 0x8040u /* flush-to-zero (bit 15) and denormals-are-zero (bit 6) */
hn_fpstate hn_fp_enter(void)
{
    const unsigned s = _mm_getcsr();
    _mm_setcsr(s | HN_MXCSR_FTZ_DAZ);
    return s;
}
void hn_fp_leave(hn_fpstate s)
{
    _mm_setcsr(s);
}
#else
hn_fpstate hn_fp_enter(void)
{
    return 0;
}
void hn_fp_leave(hn_fpstate s)
{
    (void)s;
}
#endif

/* Pause-loop iterations before blocking (a few tens of microseconds). */
#define SPIN 4000

struct hn_pool {
    int threads;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    atomic_uint_fast64_t generation; /* bumped per job */
    atomic_int pending;              /* workers still running the current job */
    int sleeping;                    /* workers blocked on cv_work (under mu) */
    int caller_sleeping;             /* the caller blocked on cv_done (under mu) */
    atomic_int quit;
    hn_task_fn fn;
    void *ctx;
    size_t n_tasks;
};

typedef struct worker_arg {
    hn_pool *p;
    int id;
} worker_arg;

static void run_share(hn_pool *p, int id)
{
    for (size_t t = (size_t)id; t < p->n_tasks; t += (size_t)p->threads) p->fn(p->ctx, t, id);
}

static void *worker_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    hn_pool *p = wa.p;
    uint64_t seen = 0;
    (void)hn_fp_enter();
    for (;;) {
        /* wait for a new generation: spin, then block */
        int spins = 0;
        while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
               !atomic_load_explicit(&p->quit, memory_order_acquire) && spins < SPIN) {
            CPU_RELAX();
            spins++;
        }
        if (atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
            !atomic_load_explicit(&p->quit, memory_order_acquire)) {
            pthread_mutex_lock(&p->mu);
            p->sleeping++;
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->cv_work, &p->mu);
            p->sleeping--;
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) break;
        seen = atomic_load(&p->generation);
        run_share(p, wa.id);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            if (p->caller_sleeping) pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

hn_pool *hn_pool_create(int threads)
{
    if (threads < 1) threads = 1;
    hn_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    if (threads > 1) {
        p->tid = calloc((size_t)threads, sizeof *p->tid);
        if (!p->tid) {
            p->threads = 1;
            hn_pool_free(p);
            return NULL;
        }
        /* Thread 0 is the caller; workers are 1..threads-1. */
        for (int i = 1; i < threads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            int ok = wa != NULL;
            if (ok) {
                wa->p = p;
                wa->id = i;
                ok = pthread_create(&p->tid[i], NULL, worker_main, wa) == 0;
                if (!ok) free(wa);
            }
            if (!ok) {
                p->threads = i; /* join the ones started so far */
                hn_pool_free(p);
                return NULL;
            }
        }
    }
    return p;
}

void hn_pool_free(hn_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++) pthread_join(p->tid[i], NULL);
    free(p->tid);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    free(p);
}

int hn_pool_threads(const hn_pool *p)
{
    return p ? p->threads : 1;
}

void hn_pool_run(hn_pool *p, size_t n_tasks, hn_task_fn fn, void *ctx)
{
    if (n_tasks == 0) return;
    if (!p || p->threads == 1 || n_tasks == 1) {
        for (size_t t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    /* a worker that checked the generation under the mutex is either waiting (woken
     * here) or saw the new one: taking the mutex closes the race */
    pthread_mutex_lock(&p->mu);
    if (p->sleeping) pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0 && spins < SPIN) {
        CPU_RELAX();
        spins++;
    }
    if (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
        pthread_mutex_lock(&p->mu);
        p->caller_sleeping = 1;
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->cv_done, &p->mu);
        p->caller_sleeping = 0;
        pthread_mutex_unlock(&p->mu);
    }
}
