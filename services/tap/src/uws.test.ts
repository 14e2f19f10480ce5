import { describe, expect, it } from 'vitest';
import type { Job } from './jobs.js';
import { jobListXml, jobXml } from './uws.js';

const job: Job = {
  id: 'abc',
  owner: 'alice',
  runId: 'r<1>',
  phase: 'ERROR',
  creationTime: new Date('2026-12-02T12:00:00Z'),
  startTime: new Date('2026-12-02T12:00:01Z'),
  executionDuration: 600,
  destruction: new Date('2026-12-09T12:00:00Z'),
  parameters: { lang: 'ADQL', query: 'SELECT a FROM t WHERE a < 1 & b', format: 'csv', maxrec: 10 },
  results: [],
  error: { type: 'fatal', code: 'UndefinedTable', message: 'relation "t" does not exist' },
};

describe('UWS documents', () => {
  it('a job: elements in the schema order, nil times, escaped text, the error summary', () => {
    const xml = jobXml(job, 'http://h/tap/async/abc');
    const order = [...xml.matchAll(/<uws:(\w+)/g)].map((m) => m[1]);
    expect(order).toEqual([
      'job',
      'jobId',
      'runId',
      'ownerId',
      'phase',
      'quote',
      'creationTime',
      'startTime',
      'endTime',
      'executionDuration',
      'destruction',
      'parameters',
      'parameter',
      'parameter',
      'parameter',
      'parameter',
      'results',
      'errorSummary',
      'message',
    ]);
    expect(xml).toContain('<uws:quote xsi:nil="true"/>');
    expect(xml).toContain('<uws:endTime xsi:nil="true"/>');
    expect(xml).toContain('<uws:runId>r&lt;1&gt;</uws:runId>');
    expect(xml).toContain('<uws:parameter id="query">SELECT a FROM t WHERE a &lt; 1 &amp; b</uws:parameter>');
    expect(xml).toContain(
      '<uws:errorSummary type="fatal" hasDetail="true"><uws:message>UndefinedTable: relation "t" does not exist</uws:message>',
    );
  });

  it('a job list: a jobref per job with its phase and href', () => {
    expect(jobListXml([job], 'http://h/tap/async')).toContain(
      '<uws:jobref id="abc" xlink:href="http://h/tap/async/abc"><uws:phase>ERROR</uws:phase><uws:runId>r&lt;1&gt;</uws:runId><uws:ownerId>alice</uws:ownerId><uws:creationTime>2026-12-02T12:00:00.000Z</uws:creationTime></uws:jobref>',
    );
  });
});
