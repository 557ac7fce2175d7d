/* A program over the installed libhiner_classify: defaults, then a tiny classifier trained
 * and scored on a two-class cube whose classes differ in one band. */
#include <stdio.h>
#include <stdlib.h>

#include "hiner_classify.h"

enum { W = 12, H = 10, C = 6 };

int main(void)
{
    hiner_classify_params p;
    if (hiner_classify_params_init(&p, HINER_ABI_VERSION) != HINER_OK) return 1;
    p.patch = 3, p.band_group = 1, p.dim = 8, p.depth = 1, p.heads = 2, p.mlp_dim = 8;
    p.epochs = 20, p.batch = 16, p.lr = 5e-3f;
    if (hiner_classify_params_validate(&p) != HINER_OK) return 2;
    static float cube[C * H * W];
    static uint8_t truth[H * W], train[H * W], pred[H * W];
    for (int i = 0; i < H * W; i++) {
        truth[i] = (uint8_t)(i % W < W / 2 ? 1 : 2);
        train[i] = i % 3 == 0 ? truth[i] : 0;
        for (int b = 0; b < C; b++)
            cube[b * H * W + i] = (float)(b == 2 && truth[i] == 2) + 0.01f * (float)((i * 7 + b) % 5);
    }
    hiner_classify_data d = {W, H, C, cube, NULL, train, 2, 0, NULL};
    hiner_classifier *c = NULL;
    if (hiner_classifier_train(&p, &d, &c, NULL) != HINER_OK) return 3;
    if (hiner_classifier_predict(c, W, H, cube, NULL, NULL, pred, NULL, NULL) != HINER_OK) return 4;
    hiner_class_scores s;
    if (hiner_classify_score(truth, pred, H * W, 2, NULL, NULL, &s) != HINER_OK) return 5;
    printf("classify consumer: OA %.3f\n", s.oa);
    hiner_classifier_free(c);
    return s.oa > 0.9 ? 0 : 6;
}
