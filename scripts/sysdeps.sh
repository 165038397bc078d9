#!/usr/bin/env bash
# Install the Debian packages veplab's tests and builds use, when missing:
# R with the reference packages (psych, lavaan, survival, pROC, lme4, sandwich,
# lpSolve, GPArotation, survey, cmprsk, riskRegression, prodlim: every library() in tests/reference/*.R) for the
# fixture checks, fonts and pango (WeasyPrint) for the Arabic/Cyrillic briefs,
# poppler for PDF checks, chromium for rendering checks.  Needs root (CI and the dev machines run as
# root); otherwise it only names what is missing.
set -uo pipefail
PKGS=(r-base-core r-cran-psych r-cran-lavaan r-cran-survival r-cran-proc r-cran-lme4 r-cran-jsonlite
      r-cran-mass r-cran-sandwich r-cran-lpsolve r-cran-gparotation r-cran-survey r-cran-cmprsk
      r-cran-riskregression r-cran-prodlim r-cran-erm
      fonts-noto-core fonts-dejavu-core fontconfig libpango-1.0-0 libpangoft2-1.0-0
      libharfbuzz-subset0 poppler-utils chromium postgresql)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "sysdeps: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "sysdeps: missing Debian packages: ${missing[*]} (install them with apt-get; tests needing them will skip)"
  exit 0
fi
echo "sysdeps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "sysdeps: apt-get failed; tests needing ${missing[*]} will skip"
