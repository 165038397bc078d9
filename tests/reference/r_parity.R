# Reference values found by checking veplab against R on new data (issue 17)
# (tests/test_outcomes_power.py, tests/test_reliability.py).
#
#   - power.t.test over a grid of designs, n, delta and strict = TRUE / FALSE
#     (tol = 1e-10), including large n where scipy's noncentral t returned NaN
#     in the far tail; and n solved with strict = TRUE
#   - psych::cohen.kappa on a weighted table where psych's variance formula for
#     weighted kappa goes negative: psych sets var.weighted to 0 and reports a
#     zero-width interval (bad = TRUE)
#
# pt(ncp) may warn "full precision may not have been achieved in 'pnt'" in the far
# tail (values below 1e-12, which do not move the power); those warnings are muted.
#
# Run from the repository root:  Rscript tests/reference/r_parity.R
# Writes tests/reference/r_parity.json.
# Versions used: R 4.2.2, psych 2.2.9, jsonlite 1.8.4.

suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

out <- list(versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            jsonlite = as.character(packageVersion("jsonlite"))))

# ------------------------------------------------------------------ power.t.test grid
grid <- expand.grid(type = c("two.sample", "one.sample", "paired"),
                    n = c(2, 3, 5, 10, 50, 200, 2000, 20000),
                    delta = c(0.05, 0.2, 0.35, 0.8, 1.5, 3),
                    strict = c(FALSE, TRUE),
                    alternative = c("two.sided", "one.sided"),
                    stringsAsFactors = FALSE)
grid$power <- mapply(function(type, n, delta, strict, alternative)
  suppressWarnings(power.t.test(n = n, delta = delta, type = type, strict = strict,
                                alternative = alternative, tol = 1e-10)$power),
  grid$type, grid$n, grid$delta, grid$strict, grid$alternative)
out$power_grid <- grid

solve <- expand.grid(type = c("two.sample", "one.sample", "paired"),
                     delta = c(0.05, 0.35, 1.2), power = c(0.8, 0.99),
                     stringsAsFactors = FALSE)
solve$n <- mapply(function(type, delta, power)
  suppressWarnings(power.t.test(delta = delta, power = power, type = type, strict = TRUE,
                                tol = 1e-10)$n),
  solve$type, solve$delta, solve$power)
out$power_solve_n_strict <- solve

# ------------------------------------------------------------------ cohen.kappa, negative variance
# two raters, 4 ordered categories, quadratic weights (psych's default weights)
# agreement table (rows a, columns b): 6 2 0 0 / 1 3 0 0 / 0 0 4 0 / 0 0 0 4
a <- c(rep(1, 8), rep(2, 4), rep(3, 4), rep(4, 4))
b <- c(rep(1, 6), 2, 2, 1, 2, 2, 2, rep(3, 4), rep(4, 4))
ck <- cohen.kappa(cbind(a, b))
out$kappa_negative_var <- list(a = a, b = b, weighted_kappa = ck$weighted.kappa,
                               var_weighted = ck$var.weighted, bad = ck$bad,
                               confid_weighted = unname(ck$confid[2, ]),
                               kappa = ck$kappa, var_kappa = ck$var.kappa,
                               confid_unweighted = unname(ck$confid[1, ]))

write_json(out, "tests/reference/r_parity.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           dataframe = "columns")
