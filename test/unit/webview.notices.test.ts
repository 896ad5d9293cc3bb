import assert from 'node:assert/strict';
import { attributionText, unitsText } from '../../src/shared/format';
import { srmBanner } from '../../webview/panels/notices/shape';
import { report, variant } from './webviewReportFixture';

describe('webview shaping: SRM banner', () => {
  it('shows the observed and configured split when they do not match', () => {
    const r = report({
      srm: { chi2: 12.5, pValue: 0.0004, mismatch: true },
      variants: [
        variant('v1', 'baseline', { observedShare: 0.931 }),
        variant('v2', 'candidate', { observedShare: 0.069 }),
      ],
    });
    assert.equal(
      srmBanner(r),
      "SRM p = 0.0004: observed split 93.1/6.9 does not match 95/5 — results can't be trusted until the routing is fixed",
    );
  });

  it('stays away when the split matches', () => {
    assert.equal(srmBanner(report()), undefined);
  });
});

describe('shaping: the unit of analysis', () => {
  const units = {
    unit: 'user' as const,
    key: 'x-user-id',
    users: 1_240,
    requestsWithoutUser: 0,
    crossovers: 3,
    unexplainedCrossovers: 1,
    crossoverRequests: 17,
    evicted: 0,
    memory: 200_000,
  };

  it('says the user is the unit, that the SRM counts users, and who was seen in two arms', () => {
    const r = report({
      srm: {
        chi2: 11.5,
        pValue: 0.0007,
        mismatch: false,
        unit: 'user',
        requestLevel: { chi2: 11.5, pValue: 0.0007 },
      },
    });
    assert.equal(
      unitsText({ ...r, units }),
      "Unit of analysis: the user (x-user-id), 1,240 users; the SRM counts users (request-level p = 0.0007, not used: a user's requests are not independent); 3 users later routed to another arm (17 requests left out of the A/B); 1 user changed arm with the weights unchanged — stickiness is broken",
    );
  });

  it('says when the unit is the request, and nothing for a report of an older version', () => {
    assert.equal(
      unitsText({ ...report(), units: { ...units, unit: 'request' } }),
      'Unit of analysis: the request (the experiment has no sticky key)',
    );
    assert.equal(unitsText(report()), '');
  });
});

describe('shaping: the attribution rule', () => {
  it('says which rule is in force, and matured against pending units per variant under a window', () => {
    assert.match(
      attributionText({ attribution: { rule: 'immediate', unit: 'request' } }),
      /^Attribution: feedback counts as it arrives \(no metrics\.primary\.window\), so requests whose feedback is still on its way count as not converted/,
    );
    assert.equal(
      attributionText({
        attribution: {
          rule: 'window',
          unit: 'user',
          window: '24h',
          windowMs: 86_400_000,
          capacity: 500_000,
          variants: {
            v1: { matured: 12_000, pending: 3_400, overflow: 0, late: 12 },
            v2: { matured: 150, pending: 900, overflow: 0, late: 0 },
          },
        },
      }),
      'Attribution window 24h from each user’s first request: the A/B counts matured users only — v1 12,000 matured · 3,400 pending; v2 150 matured · 900 pending; 12 late feedback not counted',
    );
    assert.equal(attributionText({}), '');
  });
});
