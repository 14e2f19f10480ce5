// UWS 1.1 documents: a job (uws:job, elements in the schema's order) and the job list (uws:jobs). Result
// hrefs point at this service's /async/<id>/results/<rid>, which answers the owner with a freshly signed
// URL (a redirect), so an href in a saved document never outlives its link.

import type { Job } from './jobs.js';
import { el, esc, XML_DECL } from './xml.js';

const NS =
  'xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" xmlns:xlink="http://www.w3.org/1999/xlink"' +
  ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

const iso = (d: Date): string => d.toISOString();
const nil = (name: string): string => `<uws:${name} xsi:nil="true"/>`;
const time = (name: string, d: Date | undefined): string =>
  d === undefined ? nil(name) : el(`uws:${name}`, iso(d));

/** The job's parameters as UWS shows them (TAP names, lower case). */
export function parameterList(job: Job): [string, string][] {
  const p = job.parameters;
  return [
    ['lang', p.lang],
    ['query', p.query],
    ['maxrec', String(p.maxrec)],
    ['responseformat', p.format],
  ];
}

export function jobXml(job: Job, jobUrl: string): string {
  const params = parameterList(job)
    .map(([k, v]) => `    ${el('uws:parameter', v, { id: k })}\n`)
    .join('');
  const results = job.results
    .map(
      (r) =>
        '    ' +
        el('uws:result', undefined, {
          id: r.id,
          'xlink:type': 'simple',
          'xlink:href': `${jobUrl}/results/${r.id}`,
          size: String(r.size),
          'mime-type': r.mediaType,
        }) +
        '\n',
    )
    .join('');
  const error =
    job.error === undefined
      ? ''
      : `  <uws:errorSummary type="${job.error.type}" hasDetail="true">${el('uws:message', `${job.error.code}: ${job.error.message}`)}</uws:errorSummary>\n`;
  const info: string[] = [];
  if (job.plan !== undefined)
    info.push(
      el('plan', undefined, {
        estimatedRows: String(job.plan.estimatedRows),
        cost: String(job.plan.cost),
        estimatedBytes: String(job.plan.estimatedBytes),
      }),
    );
  if (job.overflow !== undefined) info.push(el('overflow', String(job.overflow)));
  const rows = job.results.find((r) => r.id === 'result')?.rows;
  if (rows !== undefined) info.push(el('rows', String(rows)));
  return (
    XML_DECL +
    `<uws:job ${NS} version="1.1">\n` +
    `  ${el('uws:jobId', job.id)}\n` +
    (job.runId === undefined ? '' : `  ${el('uws:runId', job.runId)}\n`) +
    `  ${el('uws:ownerId', job.owner)}\n` +
    `  ${el('uws:phase', job.phase)}\n` +
    `  ${time('quote', job.quote)}\n` +
    `  ${time('creationTime', job.creationTime)}\n` +
    `  ${time('startTime', job.startTime)}\n` +
    `  ${time('endTime', job.endTime)}\n` +
    `  ${el('uws:executionDuration', String(job.executionDuration))}\n` +
    `  ${el('uws:destruction', iso(job.destruction))}\n` +
    `  <uws:parameters>\n${params}  </uws:parameters>\n` +
    `  <uws:results>\n${results}  </uws:results>\n` +
    error +
    (info.length === 0 ? '' : `  <uws:jobInfo>${info.join('')}</uws:jobInfo>\n`) +
    '</uws:job>\n'
  );
}

export function jobListXml(jobs: readonly Job[], asyncUrl: string): string {
  const refs = jobs
    .map(
      (j) =>
        `  <uws:jobref id="${esc(j.id)}" xlink:href="${esc(`${asyncUrl}/${j.id}`)}">` +
        el('uws:phase', j.phase) +
        (j.runId === undefined ? '' : el('uws:runId', j.runId)) +
        el('uws:ownerId', j.owner) +
        el('uws:creationTime', iso(j.creationTime)) +
        '</uws:jobref>\n',
    )
    .join('');
  return XML_DECL + `<uws:jobs ${NS} version="1.1">\n${refs}</uws:jobs>\n`;
}
