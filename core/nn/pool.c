/*
 * pool.c - a fixed pool of worker threads. Task t always runs on thread t % threads, so
 * any per-thread partial result is reproducible for a given thread count (determinism).
 */
#include <pthread.h>

#include "nn.h"

struct hn_pool {
    int threads;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    uint64_t generation; /* bumped per job */
    int pending;         /* workers still running the current job */
    int quit;
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
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_share(p, wa.id);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

hn_pool *hn_pool_create(int threads)
{
    if (threads < 1) threads = 1;
    hn_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    if (threads > 1) {
        p->tid = calloc((size_t)threads, sizeof *p->tid);
        if (!p->tid) goto fail;
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
fail:
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    free(p);
    return NULL;
}

void hn_pool_free(hn_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
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
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->cv_done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
