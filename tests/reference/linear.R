# Reference values for veplab.models.linear (tests/test_models_linear.py).
#
# On tests/reference/data/glm_core.csv (synthetic, made by tests/reference/make_glm_data.py):
#   - plain:    lm(z ~ x1 + x2)
#   - weighted: lm(z ~ x1 + x2, weights = w)
#   - inter:    lm(z ~ x1 * x2)   (an interaction, as R names its terms)
# each with the coefficient table under vcov(fit), sandwich::vcovHC(type = "HC0"/"HC1"/"HC3") and
# sandwich::vcovCL(cluster = ~cl, type = "HC0"/"HC1"): t on the residual degrees of freedom, as
# lmtest::coeftest(fit, vcov. = V) and coefci(level = 0.90) give for lm (written out here, so the
# script needs only sandwich; under vcov(fit) it is summary(fit)'s table and confint), R-squared, adjusted R-squared, sigma, the F
# statistic, logLik, AIC and BIC.
#
# Run from the repository root:  Rscript tests/reference/linear.R
# Writes tests/reference/linear.json.
# check_fixtures: rel_tol=1e-9

suppressPackageStartupMessages({
  library(sandwich)
  library(jsonlite)
})

dd <- "tests/reference/data/"
out <- list(versions = list(R = R.version.string,
                            sandwich = as.character(packageVersion("sandwich")),
                            jsonlite = as.character(packageVersion("jsonlite"))))
d <- read.csv(paste0(dd, "glm_core.csv"), stringsAsFactors = FALSE)
d$x2 <- factor(d$x2, levels = c("a", "b", "c"))

tab <- function(fit, V) {
  b <- coef(fit); se <- sqrt(diag(V)); t <- b / se; df <- fit$df.residual
  q <- qt(0.95, df)
  list(se = unname(se), t = unname(t), p = unname(2 * pt(-abs(t), df)),
       ci_low = unname(b - q * se), ci_high = unname(b + q * se))
}

summ <- function(fit) {
  s <- summary(fit)
  list(names = names(coef(fit)), coef = unname(coef(fit)),
       model = tab(fit, vcov(fit)),
       HC0 = tab(fit, vcovHC(fit, type = "HC0")), HC1 = tab(fit, vcovHC(fit, type = "HC1")),
       HC3 = tab(fit, vcovHC(fit, type = "HC3")),
       CR0 = tab(fit, vcovCL(fit, cluster = ~cl, type = "HC0")),
       CR1 = tab(fit, vcovCL(fit, cluster = ~cl, type = "HC1")),
       r2 = s$r.squared, adj_r2 = s$adj.r.squared, sigma = s$sigma,
       fstat = unname(s$fstatistic), df_residual = fit$df.residual,
       loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit))
}

out$plain <- summ(lm(z ~ x1 + x2, data = d))
# the hand-written table under vcov(fit) is summary(lm)'s and confint's
chk <- lm(z ~ x1 + x2, data = d)
stopifnot(isTRUE(all.equal(unname(summary(chk)$coefficients[, 4]), out$plain$model$p)),
          isTRUE(all.equal(unname(confint(chk, level = 0.9)[, 1]), out$plain$model$ci_low)))
out$weighted <- summ(lm(z ~ x1 + x2, weights = w, data = d))
out$inter <- summ(lm(z ~ x1 * x2, data = d))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/reference/linear.json")
