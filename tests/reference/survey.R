# Reference values for veplab.survey (tests/test_survey.py).
#
# R's survey package on a fake two-stage prison survey (strata = country x prison type,
# prisons, then people) and a stratified cluster sample with a lonely PSU:
#   svydesign (one-stage cluster, with fpc as sizes and as fractions, two-stage with
#   both fpcs, stratified without clusters, unstratified clusters), svymean / svytotal
#   with deff=TRUE, svyby, svyciprop (logit, likelihood, beta, mean), svyquantile
#   (survey >= 4 default: qrule="math", Woodruff "mean" intervals), svyglm (gaussian,
#   quasibinomial, deff=TRUE), domains with subset(), as.svrepdesign JK1 / JKn /
#   bootstrap (its replicate weights exported so Python can reuse them), calibrate
#   (linear, linear with bounds, raking, logit), rake, postStratify, and
#   options(survey.lonely.psu=) "adjust", "average", "certainty".
#
# check_fixtures: rel_tol=1e-3 likelihood glm_binomial rep_glm (svyciprop's likelihood
# interval interpolates a spline through profile points; glm fits stop at glm.control's
# epsilon=1e-8 on the deviance)
#
# Data: tests/reference/data/survey_prisons.csv and survey_lonely.csv, written by
#       tests/reference/make_survey_data.py.
# Run from the repository root:  Rscript tests/reference/survey.R
# Writes tests/reference/survey.json (deterministic: the bootstrap uses set.seed).
# Versions used: R 4.2.2, survey 4.1.1, jsonlite 1.8.4 (Debian packages).

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

d <- read.csv("tests/reference/data/survey_prisons.csv", stringsAsFactors = FALSE)
d$prison_in <- ave(d$prison, d$stratum, FUN = function(p) match(p, unique(p)))  # numbered within strata
d$p <- 1 / d$w
lon <- read.csv("tests/reference/data/survey_lonely.csv", stringsAsFactors = FALSE)

designs <- list(
  cluster = svydesign(ids = ~prison, strata = ~stratum, weights = ~w, data = d),
  cluster_fpc = svydesign(ids = ~prison, strata = ~stratum, weights = ~w, fpc = ~N1, data = d),
  cluster_frac = svydesign(ids = ~prison, strata = ~stratum, weights = ~w, fpc = ~f1, data = d),
  two_stage = svydesign(ids = ~prison + resp, strata = ~stratum, fpc = ~N1 + N2, data = d),
  two_stage_w = svydesign(ids = ~prison + resp, strata = ~stratum, fpc = ~N1 + N2, weights = ~w, data = d),
  stratified = svydesign(ids = ~1, strata = ~stratum, weights = ~w, data = d),
  unstratified = svydesign(ids = ~prison, weights = ~w, data = d),
  nested = svydesign(ids = ~prison_in, strata = ~stratum, probs = ~p, nest = TRUE, data = d)
)

st <- function(m) {
  r <- list(estimate = as.vector(coef(m)), se = as.vector(SE(m)))
  if (!is.null(attr(m, "deff"))) r$deff <- as.vector(attr(m, "deff"))
  r
}

out <- list()
for (nm in names(designs)) {
  D <- designs[[nm]]
  out$mean[[nm]] <- st(svymean(~y, D, deff = TRUE))
  out$total[[nm]] <- st(svytotal(~y, D, deff = TRUE))
  out$weights_sum[[nm]] <- sum(weights(D))
  out$degf[[nm]] <- degf(D)
}

# by groups
byst <- function(b) list(estimate = unname(coef(b)), se = unname(SE(b)), deff = unname(deff(b)))
out$by_mean <- byst(svyby(~y, ~gender, designs$cluster, svymean, deff = TRUE))
out$by_mean_two <- byst(svyby(~y, ~gender + region, designs$two_stage, svymean, deff = TRUE))
out$by_total <- byst(svyby(~y, ~region, designs$cluster_fpc, svytotal, deff = TRUE))

# proportions
props <- list()
for (nm in c("cluster", "two_stage", "stratified")) {
  D <- designs[[nm]]
  for (m in c("logit", "likelihood", "beta", "mean")) {
    p <- svyciprop(~I(vep == 1), D, method = m)
    props[[nm]][[m]] <- list(estimate = as.numeric(coef(p)), ci = unname(as.vector(confint(p))))
  }
  mm <- svymean(~I(vep == 1), D, deff = TRUE)
  props[[nm]]$se <- unname(SE(mm))[2]
  props[[nm]]$deff <- unname(deff(mm))[2]
}
out$proportion <- props
lv <- list()
for (a in c("agree", "disagree", "neutral")) {
  f <- as.formula(paste0("~I(answer == '", a, "')"))
  p <- svyciprop(f, designs$cluster, method = "logit")
  lv[[a]] <- list(estimate = as.numeric(coef(p)), ci = unname(as.vector(confint(p))))
}
out$proportion_levels <- lv
byp <- list()
for (m in c("logit", "likelihood", "beta", "mean")) {
  b <- svyby(~I(vep == 1), ~gender, designs$cluster, svyciprop, vartype = "ci", method = m)
  byp[[m]] <- list(estimate = unname(coef(b)), ci_low = unname(b$ci_l), ci_high = unname(b$ci_u))
}
out$by_proportion <- byp
out$likelihood <- list(cluster = props$cluster$likelihood$ci, two_stage = props$two_stage$likelihood$ci,
                       by = byp$likelihood$ci_low, by_high = byp$likelihood$ci_high)

# quantiles
qq <- list()
for (nm in c("cluster", "two_stage", "stratified")) {
  q <- svyquantile(~y, designs[[nm]], c(0.1, 0.25, 0.5, 0.9), ci = TRUE)$y
  qq[[nm]] <- list(estimate = unname(q[, 1]), ci_low = unname(q[, 2]), ci_high = unname(q[, 3]),
                   se = unname(q[, 4]))
}
out$quantile <- qq

# glm
gl <- function(g) list(term = names(coef(g)), estimate = unname(coef(g)), se = unname(SE(g)), deff = unname(diag(attr(g, "deff"))),
                       ci = unname(confint(g)), df = g$df.residual)
out$glm_gaussian <- list(cluster = gl(svyglm(y ~ age + gender + region, designs$cluster, deff = TRUE)),
                         two_stage = gl(svyglm(y ~ age + gender, designs$two_stage, deff = TRUE)))
out$glm_binomial <- list(cluster = gl(svyglm(vep ~ age + gender, designs$cluster, family = quasibinomial(), deff = TRUE)),
                         two_stage = gl(svyglm(vep ~ age + gender, designs$two_stage, family = quasibinomial(), deff = TRUE)))

# domains
w_dom <- subset(designs$cluster, gender == "Woman")
out$domain <- list(
  mean = st(svymean(~y, w_dom, deff = TRUE)),
  mean_two = st(svymean(~y, subset(designs$two_stage, region == "centre"), deff = TRUE)),
  total = st(svytotal(~y, w_dom, deff = TRUE)),
  prop_logit = as.vector(confint(svyciprop(~I(vep == 1), w_dom, method = "logit"))),
  degf = degf(w_dom),
  glm = gl(svyglm(y ~ age, w_dom, deff = TRUE)))

# replicate weights
rp <- function(R) {
  g <- svyglm(y ~ age + gender, R)
  gb <- svyglm(vep ~ age + gender, R, family = quasibinomial())
  q <- svyquantile(~y, R, c(0.25, 0.5), ci = TRUE)$y
  pl <- svyciprop(~I(vep == 1), R, method = "logit")
  pm <- svyciprop(~I(vep == 1), R, method = "mean")
  pb <- svyciprop(~I(vep == 1), R, method = "beta")
  pk <- svyciprop(~I(vep == 1), R, method = "likelihood")
  dm <- svymean(~y, subset(R, gender == "Woman"))
  list(mean = list(estimate = unname(coef(svymean(~y, R))), se = unname(SE(svymean(~y, R)))),
       total = list(estimate = unname(coef(svytotal(~y, R))), se = unname(SE(svytotal(~y, R)))),
       domain = list(estimate = unname(coef(dm)), se = unname(SE(dm))),
       by = list(estimate = unname(coef(svyby(~y, ~gender, R, svymean))), se = unname(SE(svyby(~y, ~gender, R, svymean)))),
       glm = list(estimate = unname(coef(g)), se = unname(SE(g))),
       glm_binomial = list(estimate = unname(coef(gb)), se = unname(SE(gb))),
       quantile = list(estimate = unname(q[, 1]), ci_low = unname(q[, 2]), ci_high = unname(q[, 3])),
       prop_logit = unname(as.vector(confint(pl))), prop_mean = unname(as.vector(confint(pm))),
       prop_beta = unname(as.vector(confint(pb))), prop_likelihood = unname(as.vector(confint(pk))),
       deff = c(as.vector(deff(svymean(~y, R, deff = TRUE))), as.vector(deff(svytotal(~y, R, deff = TRUE))),
                as.vector(deff(svymean(~y, subset(R, gender == "Woman"), deff = TRUE)))),
       degf = degf(R))
}
jk1 <- as.svrepdesign(designs$unstratified, type = "JK1")
jkn <- as.svrepdesign(designs$cluster_fpc, type = "JKn")
set.seed(20261206)
boot <- as.svrepdesign(designs$cluster, type = "bootstrap", replicates = 40)
out$rep <- list(JK1 = rp(jk1), JKn = rp(jkn), bootstrap = rp(boot))
out$rep_glm <- list(JK1 = out$rep$JK1$glm_binomial, JKn = out$rep$JKn$glm_binomial,
                    bootstrap = out$rep$bootstrap$glm_binomial)
bw <- boot$repweights
out$boot_weights <- list(psu_weights = unname(bw$weights), index = bw$index, scale = boot$scale,
                         rscales = boot$rscales)

# calibration
pop_lin <- c(`(Intercept)` = 47000, genderWoman = 10000, regionnorth = 17500, regionsouth = 16500, age = 47000 * 42)
cal <- list(
  linear = calibrate(designs$cluster, ~gender + region + age, pop_lin),
  linear_bounded = calibrate(designs$cluster, ~gender + region + age, pop_lin, bounds = c(0.6, 1.6)),
  raking = calibrate(designs$cluster, ~gender + region + age, pop_lin, calfun = "raking"),
  logit = calibrate(designs$cluster, ~gender + region + age, pop_lin, calfun = "logit", bounds = c(0.5, 2.2)),
  linear_two = calibrate(designs$two_stage, ~gender + region, pop_lin[1:4])
)
pop_gender <- data.frame(gender = c("Man", "Woman"), Freq = c(37000, 10000))
pop_region <- data.frame(region = c("centre", "north", "south"), Freq = c(13000, 17500, 16500))
cal$rake <- rake(designs$cluster, list(~gender, ~region), list(pop_gender, pop_region))
cells <- data.frame(gender = rep(c("Man", "Woman"), each = 3), region = rep(c("centre", "north", "south"), 2),
                    Freq = c(10000, 14000, 13000, 3000, 3500, 3500))
cal$post <- postStratify(designs$cluster, ~gender + region, cells)
cal$post_gender <- postStratify(designs$two_stage, ~gender, pop_gender)
for (nm in names(cal)) {
  D <- cal[[nm]]
  out$calibration[[nm]] <- list(weights = unname(weights(D)),
                                mean = st(svymean(~y, D, deff = TRUE)),
                                total = st(svytotal(~y, D)),
                                domain = st(svymean(~y, subset(D, gender == "Woman"))),
                                glm = gl(svyglm(y ~ age, D, deff = TRUE)),
                                domain_glm = gl(svyglm(y ~ age, subset(D, gender == "Woman"), deff = TRUE)))
}

# lonely PSUs
ld <- list()
for (opt in c("adjust", "average", "certainty", "remove")) {
  options(survey.lonely.psu = opt)
  L <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = lon)
  ld[[opt]] <- list(mean = st(svymean(~y, L)), total = st(svytotal(~y, L)),
                    domain = st(svymean(~y, subset(L, g == "a"))))
}
options(survey.lonely.psu = "fail")
ld$fail_message <- tryCatch({svymean(~y, svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = lon)); "no error"},
                            error = function(e) conditionMessage(e))
out$lonely <- ld

write_json(out, "tests/reference/survey.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
