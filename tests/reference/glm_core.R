# Reference values for the GLM core veplab._glm (tests/test_glm.py).
#
# On tests/reference/data/glm_core.csv (synthetic, made by tests/reference/make_glm_data.py):
#   - logit:   glm(y ~ x1 + x2 + offset(off), family = binomial, weights = w)
#   - trials:  glm(cbind(k, m - k) ~ x1 + x2, family = binomial)
#   - poisson: glm(count ~ x1 + x2 + offset(log(expo)), family = poisson, weights = w)
#   - gaussian: glm(z ~ x1 + x2, family = gaussian, weights = w)
# each with coefficients, vcov(fit), sandwich::vcovHC(type = "HC0"/"HC1"/"HC3"),
# sandwich::vcovCL(cluster = ~cl, type = "HC0"/"HC1"), deviance, null deviance, logLik,
# AIC, residual and null degrees of freedom and the hat values.
# On tests/reference/data/glm_separated.csv: the warnings glm gives for complete
# separation (y ~ x) and quasi-separation (y ~ q + u).
#
# Run from the repository root:  Rscript tests/reference/glm_core.R
# Writes tests/reference/glm_core.json.
# check_fixtures: rel_tol=1e-7 (IRLS stopped at glm.control(epsilon = 1e-14): the last digits depend on the BLAS)

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
ctl <- glm.control(epsilon = 1e-14, maxit = 100)

mat <- function(v) unname(lapply(seq_len(nrow(v)), function(i) unname(v[i, ])))

summ <- function(fit) {
  list(coef = unname(coef(fit)), names = names(coef(fit)),
       vcov = mat(vcov(fit)),
       HC0 = mat(vcovHC(fit, type = "HC0")), HC1 = mat(vcovHC(fit, type = "HC1")),
       HC3 = mat(vcovHC(fit, type = "HC3")),
       CR0 = mat(vcovCL(fit, cluster = ~cl, type = "HC0")),
       CR1 = mat(vcovCL(fit, cluster = ~cl, type = "HC1")),
       deviance = deviance(fit), null_deviance = fit$null.deviance,
       loglik = as.numeric(logLik(fit)), aic = AIC(fit),
       df_residual = fit$df.residual, df_null = fit$df.null,
       hat = unname(hatvalues(fit)), converged = fit$converged)
}

out$logit <- summ(glm(y ~ x1 + x2 + offset(off), family = binomial, weights = w, data = d, control = ctl))
out$trials <- summ(glm(cbind(k, m - k) ~ x1 + x2, family = binomial, data = d, control = ctl))
out$poisson <- summ(glm(count ~ x1 + x2 + offset(log(expo)), family = poisson, weights = w, data = d,
                        control = ctl))
out$gaussian <- summ(glm(z ~ x1 + x2, family = gaussian, weights = w, data = d, control = ctl))

s <- read.csv(paste0(dd, "glm_separated.csv"), stringsAsFactors = FALSE)
s$q <- factor(s$q, levels = c("common", "rare"))
warned <- function(expr) {
  msgs <- character(0)
  withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning")
  })
  msgs
}
out$separated <- list(
  complete = warned(glm(y ~ x, family = binomial, data = s)),
  quasi = warned(glm(y ~ q + u, family = binomial, data = s)))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/reference/glm_core.json")
