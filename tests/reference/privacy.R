# Reference values for veplab.privacy (tests/test_privacy_risk.py, tests/test_privacy_disclosure.py).
#
# 1. Disclosure control: for four fake frequency tables and the cells
#    veplab.privacy.suppress_counts hid in them, the interval an intruder can
#    compute for each hidden cell from the published cells and the row, column
#    and grand totals (assumed known): minimise and maximise the cell by linear
#    programming with lpSolve (non-negative cells; row and column sums fixed).
#    A hidden cell with min == max would be recovered exactly.
# 2. Risk: on 240 fake records, the equivalence-class sizes f_k of the key
#    (country, gender, age_band, offence) with a missing value matching any
#    value (as sdcMicro::freqCalc), and also with missing as its own category;
#    records and classes with f_k < k for k = 2, 3, 5, 10; the expected number
#    of re-identifications sum(1/f_k); distinct l-diversity of vep within the
#    exact combinations of (country, gender, age_band) (missing as a category).
#
# Data: tests/reference/data/privacy_tables.csv and privacy_micro.csv, written by
#       tests/reference/make_privacy_data.py.
# Run from the repository root:  Rscript tests/reference/privacy.R
# Writes tests/reference/privacy.json (deterministic).
# Versions used: R 4.2.2, lpSolve 5.6.18, jsonlite 1.8.4 (Debian packages).

suppressPackageStartupMessages({
  library(lpSolve)
  library(jsonlite)
})

tabs <- read.csv("tests/reference/data/privacy_tables.csv")
intervals <- list()
for (t in sort(unique(tabs$table))) {
  d <- tabs[tabs$table == t, ]
  nr <- max(d$row); nc <- max(d$col)
  vals <- matrix(0, nr, nc); hid <- matrix(FALSE, nr, nc)
  vals[cbind(d$row, d$col)] <- d$value
  hid[cbind(d$row, d$col)] <- d$suppressed == 1
  cells <- which(hid, arr.ind = TRUE)
  cells <- cells[order(cells[, 1], cells[, 2]), , drop = FALSE]
  k <- nrow(cells)
  A <- NULL; b <- NULL
  for (i in seq_len(nr)) {                      # row sums
    a <- as.numeric(cells[, 1] == i)
    if (any(a != 0)) { A <- rbind(A, a); b <- c(b, sum(vals[i, ]) - sum(vals[i, !hid[i, ]])) }
  }
  for (j in seq_len(nc)) {                      # column sums
    a <- as.numeric(cells[, 2] == j)
    if (any(a != 0)) { A <- rbind(A, a); b <- c(b, sum(vals[, j]) - sum(vals[!hid[, j], j])) }
  }
  for (v in seq_len(k)) {
    obj <- numeric(k); obj[v] <- 1
    lo <- lp("min", obj, A, rep("=", nrow(A)), b)
    hi <- lp("max", obj, A, rep("=", nrow(A)), b)
    intervals[[length(intervals) + 1]] <- list(
      table = t, row = cells[v, 1], col = cells[v, 2], value = vals[cells[v, 1], cells[v, 2]],
      lower = lo$objval, upper = if (hi$status == 3) "Inf" else hi$objval)
  }
}

micro <- read.csv("tests/reference/data/privacy_micro.csv")
keys <- c("country", "gender", "age_band", "offence")
X <- as.matrix(micro[, keys])
n <- nrow(X)
compat <- function(i) {
  ok <- rep(TRUE, n)
  for (j in seq_along(keys)) {
    xi <- X[i, j]
    if (!is.na(xi)) ok <- ok & (is.na(X[, j]) | X[, j] == xi)
  }
  sum(ok)
}
fk <- vapply(seq_len(n), compat, numeric(1))
key_cat <- apply(X, 1, function(r) paste(ifelse(is.na(r), "NA", r), collapse = "|"))
fk_cat <- as.numeric(ave(rep(1, n), key_cat, FUN = length))
k_rows <- lapply(c(2, 3, 5, 10), function(k) list(
  k = k, records_below_k = sum(fk < k), classes_below_k = length(unique(key_cat[fk < k]))))
lkey <- apply(as.matrix(micro[, c("country", "gender", "age_band")]), 1,
              function(r) paste(ifelse(is.na(r), "NA", r), collapse = "|"))
l_per_class <- tapply(micro$vep, lkey, function(v) length(unique(v[!is.na(v)])))
size_per_class <- tapply(micro$vep, lkey, length)
out <- list(
  intervals = intervals,
  risk = list(
    fk_wildcard = fk,
    fk_category = fk_cat,
    k_table = k_rows,
    expected_reidentifications = sum(1 / fk),
    l_min = min(l_per_class),
    l_classes_below_2 = sum(l_per_class < 2),
    l_records_below_2 = sum(size_per_class[l_per_class < 2])
  )
)
write_json(out, "tests/reference/privacy.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
