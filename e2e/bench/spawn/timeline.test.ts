import { describe, expect, it } from 'vitest';
import { StepLog, medianTimeline, stepsOf, timelineTable } from './timeline.js';

const pod = (status: object, nodeName?: string): object => ({
  metadata: { name: 'a-lab', namespace: 'ns' },
  spec: nodeName === undefined ? {} : { nodeName },
  status,
});

describe('bench:spawn timeline', () => {
  it('reads the steps each object shows', () => {
    expect(stepsOf('NotebookLab', { metadata: { name: 'a', namespace: 'ns' } })?.steps).toEqual(['lab']);
    expect(
      stepsOf('NotebookLab', { metadata: { name: 'a', namespace: 'ns', finalizers: ['x'] } })?.steps,
    ).toEqual(['lab', 'finalizer']);
    const ready = (status: string): object => ({
      metadata: { name: 'a', namespace: 'ns', finalizers: ['x'] },
      status: { conditions: [{ type: 'Ready', status }] },
    });
    expect(stepsOf('NotebookLab', ready('True'))?.steps).toEqual(['lab', 'finalizer', 'reported']);
    expect(stepsOf('NotebookLab', ready('False'))?.steps).toEqual(['lab', 'finalizer']);
    expect(stepsOf('PersistentVolume', { spec: { claimRef: { name: 'a-home', namespace: 'ns' } } })).toEqual({
      key: 'ns/a-home',
      steps: ['volume'],
    });
    expect(stepsOf('PersistentVolume', { spec: {} })).toBeUndefined();
    expect(stepsOf('Pod', pod({}))?.steps).toEqual(['pod']);
    const up = pod(
      {
        podIP: '10.0.0.2',
        containerStatuses: [{ state: { running: {} } }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
      'node',
    );
    expect(stepsOf('Pod', up)?.steps).toEqual(['pod', 'scheduled', 'ip', 'running', 'ready']);
    expect(stepsOf('Pod', pod({ conditions: [{ type: 'Ready', status: 'False' }] }, 'node'))?.steps).toEqual([
      'pod',
      'scheduled',
    ]);
  });

  it('keeps the first time a step was seen and joins the objects of one start', () => {
    const log = new StepLog();
    log.observe('PersistentVolumeClaim', { metadata: { name: 'a-home', namespace: 'ns' } }, 1010);
    log.observe('PersistentVolume', { spec: { claimRef: { name: 'a-home', namespace: 'ns' } } }, 1020);
    log.observe(
      'PersistentVolumeClaim',
      { metadata: { name: 'a-home', namespace: 'ns' }, status: { phase: 'Bound' } },
      1050,
    );
    log.observe('Pod', pod({}), 1100);
    log.observe('Pod', pod({}, 'node'), 1120);
    log.observe('Pod', pod({ podIP: '10.0.0.2' }, 'node'), 1400);
    log.observe('Pod', pod({}), 1900); // a later event never moves a step back
    log.observe('Pod', { metadata: { name: 'other', namespace: 'ns' } }, 1005);
    expect(log.timeline(['ns/a-home', 'ns/a-lab'], 1000)).toEqual({
      claim: 10,
      volume: 20,
      bound: 50,
      pod: 100,
      scheduled: 120,
      ip: 400,
    });
  });

  it('takes each step’s median over the starts that show it and prints one column per path', () => {
    const med = medianTimeline([{ pod: 100, ip: 300 }, { pod: 300 }, { pod: 200, ip: 500, answered: 900 }]);
    expect(med).toEqual([
      { step: 'pod', at: 200, n: 3 },
      { step: 'ip', at: 300, n: 2 },
      { step: 'answered', at: 900, n: 1 },
    ]);
    const t = timelineTable([
      { name: 'skyport', timelines: [{ pod: 100 }] },
      { name: 'hub', timelines: [{ pod: 50, bound: 40 }] },
    ]).split('\n');
    expect(t).toHaveLength(3);
    expect(t[1]).toMatch(/claim Bound.*—\s+40$/);
    expect(t[2]).toMatch(/Pod created\s+100\s+50$/);
  });
});
