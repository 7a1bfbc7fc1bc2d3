import { ensureBundles } from '../scripts/build-bundles';
import { setup as reliabilitySetup } from './reliability/summary';

/** Before any test: the prebuilt bundles the constructs, the local edge and the CLI use, rebuilt if the tree changed. */
export default async function setup(): Promise<void> {
  ensureBundles();
  await reliabilitySetup();
}
