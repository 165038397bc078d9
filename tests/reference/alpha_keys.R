# Reference values for alpha(keys=..., check_keys=...) (tests/test_reliability.py), as
# psych::alpha(keys =, check.keys =).
#
# Data: tests/reference/data/reliability_items.csv and reliability_items_missing.csv
# (written by tests/reference/make_reliability_data.py; FAKE data).  Items it2 and it5
# are stored reverse-coded here (6 - x: a 1-5 item read backwards), as raw data with
# negatively worded items arrive; psych then
#   * check.keys = TRUE: reverses the items whose loading on the first principal
#     component is negative (max + min of all items minus the answer) and names them
#     "it2-", "it5-";
#   * keys = c(1, -1, 1, 1, -1, 1, 1, 1, 1): reverses the items given -1;
#   * keys = list(c("it1", "-it2", "it3", "it4", "-it5")): scores only the listed
#     items, reversing those with a "-" prefix;
#   * check_keys_ranges: as check_keys with it9 doubled (answers 2-10), so the
#     reversal constant (max + min over all items = 11) differs from an item's own.
#
# Run from the repository root:  Rscript tests/reference/alpha_keys.R
# Versions used: R 4.x, psych 2.2.9, jsonlite 1.8.4 (recorded in meta).

suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

data_dir <- file.path("tests", "reference", "data")
rd <- function(f, ...) read.csv(file.path(data_dir, f), check.names = FALSE, ...)

cols <- function(df) {
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unname(v))
  out$.rownames <- rownames(df)
  out
}

alpha_ref <- function(x, ...) {
  warned <- character(0)
  a <- withCallingHandlers(
    psych::alpha(x, ...),
    warning = function(w) {
      warned <<- c(warned, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(
    total = as.list(a$total),
    item_stats = cols(a$item.stats),
    alpha_drop = cols(a$alpha.drop),
    keys = unname(unlist(a$keys)),
    feldt = list(lower = a$feldt$lower.ci[[1]], upper = a$feldt$upper.ci[[1]]),
    warned = length(warned) > 0
  )
}

reverse <- function(x, items) {
  x[items] <- 6 - x[items]
  x
}

items <- rd("reliability_items.csv", row.names = 1)
items_missing <- rd("reliability_items_missing.csv", row.names = 1)
rev_items <- reverse(items, c("it2", "it5"))
rev_missing <- reverse(items_missing, c("it2", "it5"))
key_vec <- c(1, -1, 1, 1, -1, 1, 1, 1, 1)
rev_ranges <- rev_items
rev_ranges$it9 <- 2 * rev_ranges$it9

out <- list(
  meta = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  check_keys = alpha_ref(rev_items, check.keys = TRUE),
  check_keys_missing = alpha_ref(rev_missing, check.keys = TRUE),
  keys_vector = alpha_ref(rev_items, keys = key_vec),
  keys_list = alpha_ref(rev_items, keys = list(c("it1", "-it2", "it3", "it4", "-it5"))),
  keys_vector_missing = alpha_ref(rev_missing, keys = key_vec),
  check_keys_ranges = alpha_ref(rev_ranges, check.keys = TRUE)
)

write_json(out, file.path("tests", "reference", "alpha_keys.json"),
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
