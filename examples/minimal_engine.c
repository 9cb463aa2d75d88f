/* minimal_engine: how an engine of your own uses libbreakwatch.
 *
 * Declares a labelled counter, a gauge and a histogram, resolves the label sets once, updates
 * them from a few threads the way a trading loop would, and prints the exposition that an HTTP
 * handler would serve at /api/metrics.
 *
 *   cc minimal_engine.c $(pkg-config --cflags --libs breakwatch) -o minimal_engine */
#include <breakwatch/metrics.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define FILLS   100000

static bw_counter *fills[THREADS];
static bw_histogram *latency;

static void *trade(void *arg)
{
    bw_counter *c = fills[(size_t)arg];
    for (int i = 0; i < FILLS; i++) {
        bw_counter_inc(c);                                /* no lock, no allocation */
        bw_histogram_observe(latency, 0.0001 * (i % 50)); /* seconds */
    }
    return NULL;
}

int main(void)
{
    static const char *const symbols[THREADS] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"};
    const char *labels[] = {"symbol"};
    bw_registry *reg = bw_registry_new(0);
    bw_family *family;
    bw_gauge *equity;
    if (!reg ||
        bw_counter_family(reg, "fills_total", "Orders filled, by symbol.", 1, labels, &family) !=
            BW_OK ||
        bw_gauge_new(reg, "equity", "Account equity in USDT.", &equity) != BW_OK ||
        bw_histogram_new(reg, "fill_latency_seconds", "Order to fill, in seconds.", NULL, 0,
                         &latency) != BW_OK) {
        fprintf(stderr, "cannot declare metrics\n");
        return 1;
    }
    for (size_t i = 0; i < THREADS; i++) {
        const char *value[] = {symbols[i]};
        if (bw_counter_resolve(family, value, &fills[i]) != BW_OK)
            return 1;
    }
    bw_gauge_set(equity, 10000.5);

    pthread_t t[THREADS];
    for (size_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, trade, (void *)i);
    for (size_t i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);

    char *page = NULL;
    size_t cap = 0, len = 0;
    if (bw_registry_expose(reg, BW_FORMAT_TEXT, &page, &cap, &len) != BW_OK)
        return 1;
    fwrite(page, 1, len, stdout);
    free(page);
    bw_registry_free(reg);
    return 0;
}
