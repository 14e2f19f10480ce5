// `npm run images [-- --force] [-- NAME...]`: builds skyport's images daemonless and prints where they are.
import { buildImages, imagesCacheDir } from './build.js';
import { IMAGES } from './spec.js';

function usage(): string {
  return [
    'usage: npm run images -- [--force] [NAME...]',
    '',
    'Builds OCI images with buildah (chroot isolation, no Docker daemon) into docker-archive tarballs under',
    `${imagesCacheDir()}, each cached by the content hash of its Dockerfile, inputs, pins and base.`,
    '',
    `images: ${IMAGES.map((s) => s.name).join(', ')} (default: all)`,
    '  --force   rebuild the selected images even when cached',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    return;
  }
  const unknown = argv.filter((a) => a.startsWith('-') && a !== '--force');
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(' ')}\n${usage()}`);
  const t0 = performance.now();
  const outcomes = await buildImages({
    force: argv.includes('--force'),
    names: argv.filter((a) => !a.startsWith('-')),
  });
  const rows = outcomes.map((o) => [
    o.name,
    o.ref,
    o.cached ? 'cached' : 'built',
    `${o.seconds.toFixed(1)} s`,
    `${(o.bytes / 1e6).toFixed(1)} MB`,
    o.archive,
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  console.log(`images: ${outcomes.length} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`images: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
