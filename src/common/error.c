// SPDX-License-Identifier: GPL-2.0-or-later
#include "error.h"

G_DEFINE_QUARK(vmt-error-quark, vmt_error)
