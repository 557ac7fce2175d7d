/*
 * report.c - hiner-classify's results: the text report on stdout (image, split, model,
 * training, scores, per-class accuracy, confusion matrix, times) and the same as JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "classify_tool.h"

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.6g", x);
    else fputs("null", f);
}


void print_report(const options *o, const image *im, const run *r)
{
    const int K = r->K;
    printf("image: %s (%d x %d x %d, %s", o->image, im->W, im->H, im->C, im->dtype);
    if (im->is_hiner) printf("; HINER %.4f bpppb, ratio %.1f", im->bpppb, im->ratio);
    printf(")\n");
    if (o->per_class > 0)
        printf("split: %ld training pixels per class, seed %llu: %zu training, %zu test pixels\n",
               o->per_class, o->seed, r->n_train, r->n_test);
    else
        printf("split: %.3g of each class for training, seed %llu: %zu training, %zu test pixels\n",
               o->fraction, o->seed, r->n_train, r->n_test);
    printf("model: SpectralFormer (CAF) %llu parameters",
           (unsigned long long)r->rep.classifier_params);
    if (o->asw) printf(" + ASW %llu (beta %g)", (unsigned long long)r->rep.asw_params, o->asw_beta);
    if (o->isi) printf(", ISI %d cubes, eta %g", o->isi_copies, o->isi_eta);
    printf("\ntraining: %d epochs, %llu steps, %.1f s; last epoch loss %.4f, accuracy %.4f\n",
           r->rep.epochs_done, (unsigned long long)r->rep.steps, r->rep.seconds,
           r->rep.final_loss, r->rep.train_accuracy);
    printf("OA %.4f  AA %.4f  kappa %.4f  (%llu test pixels)\n", r->sc.oa, r->sc.aa, r->sc.kappa,
           (unsigned long long)r->sc.n);
    printf("class  train   test  accuracy\n");
    for (int k = 0; k < K; k++)
        printf("%5d %6zu %6zu  %.4f\n", k + 1, r->ctrain[k + 1], r->ctest[k + 1], r->pc[k]);
    printf("confusion (rows: true class, columns: predicted class)\n");
    for (int t = 0; t < K; t++) {
        for (int k = 0; k < K; k++) printf(" %6llu", (unsigned long long)r->cm[t * K + k]);
        printf("\n");
    }
    printf("time: %.1f s in all (training patches %.1f s, training %.1f s, reading the image "
           "%.1f s, classifying %.1f s; %d windows of up to %d x %d pixels)\n",
           r->t_total, r->t_patches, r->rep.seconds, r->t_read, r->t_pred, r->windows,
           r->block_w, r->block_h);
}

/* The scores: overall, per class, and the confusion matrix. */
static void json_scores(FILE *f, const run *r)
{
    const int K = r->K;
    fprintf(f, "  \"oa\": ");
    json_num(f, r->sc.oa);
    fprintf(f, ", \"aa\": ");
    json_num(f, r->sc.aa);
    fprintf(f, ", \"kappa\": ");
    json_num(f, r->sc.kappa);
    fprintf(f, ",\n  \"per_class\": [");
    for (int k = 0; k < K; k++) {
        fprintf(f, "%s{\"class\": %d, \"train\": %zu, \"test\": %zu, \"accuracy\": ",
                k ? ", " : "", k + 1, r->ctrain[k + 1], r->ctest[k + 1]);
        json_num(f, r->pc[k]);
        fputc('}', f);
    }
    fprintf(f, "],\n  \"confusion\": [");
    for (int t = 0; t < K; t++) {
        fprintf(f, "%s[", t ? ", " : "");
        for (int k = 0; k < K; k++)
            fprintf(f, "%s%llu", k ? ", " : "", (unsigned long long)r->cm[t * K + k]);
        fputc(']', f);
    }
    fprintf(f, "]\n}\n");
}

void write_json(const options *o, const image *im, const run *r)
{
    FILE *f = fopen(o->json, "w");
    if (!f) die("%s: %s", o->json, strerror(errno));
    fprintf(f, "{\n  \"image\": ");
    json_str(f, o->image);
    fprintf(f, ",\n  \"labels\": ");
    json_str(f, o->labels);
    fprintf(f, ",\n  \"source\": \"%s\",\n  \"width\": %d, \"height\": %d, \"bands\": %d,\n",
            im->is_hiner ? "hiner" : "gdal", im->W, im->H, im->C);
    fprintf(f, "  \"dtype\": ");
    json_str(f, im->dtype);
    fprintf(f, ",\n  \"bpppb\": ");
    json_num(f, im->is_hiner ? im->bpppb : NAN);
    fprintf(f, ", \"compression_ratio\": ");
    json_num(f, im->is_hiner ? im->ratio : NAN);
    fprintf(f, ",\n  \"asw\": %s, \"asw_beta\": %g, \"isi\": %s, \"isi_copies\": %d, "
               "\"isi_eta\": %g,\n",
            o->asw ? "true" : "false", o->asw_beta, o->isi ? "true" : "false",
            o->isi ? o->isi_copies : 0, o->isi_eta);
    fprintf(f, "  \"split\": {\"per_class\": %ld, \"fraction\": %g, \"seed\": %llu, "
               "\"train_pixels\": %zu, \"test_pixels\": %zu},\n",
            o->per_class > 0 ? o->per_class : 0, o->fraction, o->seed, r->n_train, r->n_test);
    fprintf(f, "  \"epochs\": %d, \"steps\": %llu, \"threads\": %d,\n", r->rep.epochs_done,
            (unsigned long long)r->rep.steps, o->threads);
    fprintf(f, "  \"classifier_params\": %llu, \"asw_params\": %llu,\n",
            (unsigned long long)r->rep.classifier_params, (unsigned long long)r->rep.asw_params);
    fprintf(f, "  \"patches_seconds\": %.2f, \"train_seconds\": %.2f, \"read_seconds\": %.2f, "
               "\"predict_seconds\": %.2f, \"total_seconds\": %.2f,\n",
            r->t_patches, r->rep.seconds, r->t_read, r->t_pred, r->t_total);
    fprintf(f, "  \"windows\": %d, \"window_width\": %d, \"window_height\": %d, "
               "\"dropped_train\": %zu, \"dropped_test\": %zu,\n",
            r->windows, r->block_w, r->block_h, r->dropped_train, r->dropped_test);
    fprintf(f, "  \"final_loss\": ");
    json_num(f, r->rep.final_loss);
    fprintf(f, ", \"train_accuracy\": ");
    json_num(f, r->rep.train_accuracy);
    fprintf(f, ",\n  \"n_classes\": %d, \"test_scored\": %llu,\n", r->K,
            (unsigned long long)r->sc.n);
    json_scores(f, r);
    if (fclose(f) != 0) die("%s: write failed", o->json);
}
