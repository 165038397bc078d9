# Reference values for the Rasch and partial credit models (tests/test_irt.py), by eRm.
#
# On the synthetic data of tests/reference/make_irt_data.py (tests/reference/data/irt_*.csv):
#   eRm::RM (dichotomous b1..b10), eRm::PCM (ordinal p1..p6) and eRm::RSM (p1..p5, one 0-3 scale; once
#   with p1 leaving category 2 unused, which the shared steps allow),
#   conditional ML with the default
#   sum-to-zero normalisation (sum0 = TRUE); data sets with missing answers (*_na) go through
#   eRm's grouping of persons by missing pattern.  For each fit: conditional log-likelihood,
#   npar, eta and beta with SEs, thresholds() (PCM), person.parameter() (ML; extreme scores by
#   spline interpolation), SepRel(), itemfit(), personfit(), item_info()/test_info() on a theta grid,
#   LRtest() with the median and mean splits and (complete data) split by lang, and Waldtest() by lang.
#
# Run from the repository root:  Rscript tests/reference/irt.R
# Writes tests/reference/irt.json.
# check_fixtures: rel_tol=1e-6 (eRm maximises with nlm and numerical derivatives; its Hessian is numerical)

suppressPackageStartupMessages({
  library(eRm)
  library(jsonlite)
})

items_of <- function(d, prefix) grep(paste0("^", prefix, "[0-9]+$"), names(d), value = TRUE)
grid <- seq(-4, 4, by = 0.5)

one_fit <- function(file, prefix, model, split_by_lang) {
  d <- read.csv(file.path("tests/reference/data", file), stringsAsFactors = FALSE)
  X <- as.matrix(d[, items_of(d, prefix)])
  rownames(X) <- d$id
  fit <- if (model == "RM") RM(X) else PCM(X)
  pp <- person.parameter(fit)
  se_theta <- unlist(unname(pp$se.theta))
  theta <- pp$theta.table[, "Person Parameter"]
  ifit <- itemfit(pp)
  pfit <- personfit(pp)
  out <- list(
    file = file, model = model, n = nrow(X), items = colnames(X),
    loglik = fit$loglik, npar = fit$npar,
    etapar = unname(fit$etapar), se_eta = unname(fit$se.eta),
    betapar = unname(fit$betapar), se_beta = unname(fit$se.beta),
    beta_names = names(fit$betapar),
    persons = list(id = rownames(X), theta = theta,
                   se = unname(se_theta[rownames(X)]),
                   interpolated = pp$theta.table[, "Interpolated"],
                   excluded = rownames(X)[pp$pers.ex]),
    itemfit = list(chisq = unname(ifit$i.fit), df = unname(ifit$i.df) - 1,
                   p = unname(1 - pchisq(ifit$i.fit, ifit$i.df - 1)),
                   outfit_msq = unname(ifit$i.outfitMSQ), infit_msq = unname(ifit$i.infitMSQ),
                   outfit_t = unname(ifit$i.outfitZ), infit_t = unname(ifit$i.infitZ)),
    personfit = list(id = names(pfit$p.fit), chisq = unname(pfit$p.fit), df = unname(pfit$p.df) - 1,
                     outfit_msq = unname(pfit$p.outfitMSQ), infit_msq = unname(pfit$p.infitMSQ),
                     outfit_t = unname(pfit$p.outfitZ), infit_t = unname(pfit$p.infitZ)),
    sep_rel = list(sep_rel = SepRel(pp)$sep.rel, ssd = SepRel(pp)$SSD.PS, mse = SepRel(pp)$MSE),
    info_theta = grid,
    item_info = lapply(item_info(fit, theta = grid), function(x) x$i.info),
    test_info = test_info(fit, theta = grid)
  )
  if (model == "PCM") {
    th <- thresholds(fit)
    out$thresholds <- list(threshpar = unname(th$threshpar), se = unname(th$se.thresh),
                           location = unname(th$threshtable[[1]][, "Location"]))
  }
  lr <- LRtest(fit, splitcr = "median")
  out$lr_median <- list(LR = lr$LR, df = lr$df, p = lr$pvalue, loglik_groups = lr$likgroup,
                        betas = unname(lapply(lr$betalist, unname)))
  lr <- LRtest(fit, splitcr = "mean")
  out$lr_mean <- list(LR = lr$LR, df = lr$df, p = lr$pvalue, loglik_groups = lr$likgroup)
  if (split_by_lang) {
    lang <- factor(d$lang)
    lr <- LRtest(fit, splitcr = lang)
    out$lr_lang <- list(LR = lr$LR, df = lr$df, p = lr$pvalue, loglik_groups = lr$likgroup,
                        betas = unname(lapply(lr$betalist, unname)),
                        se_betas = unname(lapply(lr$selist, unname)))
    w <- Waldtest(fit, splitcr = lang)
    out$wald_lang <- list(z = unname(w$coef.table[, 1]), p = unname(w$coef.table[, 2]))
  }
  out
}

out <- list(versions = list(R = R.version.string, eRm = as.character(packageVersion("eRm")),
                            jsonlite = as.character(packageVersion("jsonlite"))))
out$binary <- one_fit("irt_binary.csv", "b", "RM", TRUE)
out$binary_na <- one_fit("irt_binary_na.csv", "b", "RM", FALSE)
out$poly <- one_fit("irt_poly.csv", "p", "PCM", TRUE)
out$poly_na <- one_fit("irt_poly_na.csv", "p", "PCM", FALSE)
# sum0 = FALSE: the first item's beta fixed at 0 instead
fit0 <- RM(as.matrix(read.csv("tests/reference/data/irt_binary.csv")[, paste0("b", 1:10)]), sum0 = FALSE)
out$binary_first0 <- list(loglik = fit0$loglik, betapar = unname(fit0$betapar), se_beta = unname(fit0$se.beta))
# eRm::RSM (rating scale model) on the five items that share the 0-3 scale (p6 has 0-2)
rsm_fit <- function(file, gap = FALSE) {
  d <- read.csv(file.path("tests/reference/data", file), stringsAsFactors = FALSE)
  X <- as.matrix(d[, paste0("p", 1:5)])
  rownames(X) <- d$id
  if (gap) X[!is.na(X[, 1]) & X[, 1] == 2, 1] <- 1  # p1 leaves category 2 unused; the steps are shared
  fit <- RSM(X)
  pp <- person.parameter(fit)
  th <- thresholds(fit)
  ifit <- itemfit(pp)
  lr <- LRtest(fit, splitcr = "median")
  list(file = file, items = colnames(X), n = nrow(X), loglik = fit$loglik, npar = fit$npar,
       etapar = unname(fit$etapar), se_eta = unname(fit$se.eta),
       betapar = unname(fit$betapar), se_beta = unname(fit$se.beta),
       thresholds = list(threshpar = unname(th$threshpar), se = unname(th$se.thresh),
                         location = unname(th$threshtable[[1]][, "Location"])),
       persons = list(id = rownames(X), theta = pp$theta.table[, "Person Parameter"],
                      se = unname(unlist(unname(pp$se.theta))[rownames(X)])),
       itemfit = list(outfit_msq = unname(ifit$i.outfitMSQ), infit_msq = unname(ifit$i.infitMSQ)),
       lr_median = list(LR = lr$LR, df = lr$df, p = lr$pvalue))
}
out$rating <- rsm_fit("irt_poly.csv")
out$rating_na <- rsm_fit("irt_poly_na.csv")
out$rating_gap <- rsm_fit("irt_poly.csv", gap = TRUE)

write_json(out, "tests/reference/irt.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
