import { x402Client } from '@x402/core/client';
import { toClientEvmSigner } from '@x402/evm';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { encodeDeployData, getAddress, toHex, type Address, type Hex, type PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { LocalChain } from '../../local/chain';
import LocalSmartWalletArtifact from '../../local/contracts/LocalSmartWallet.json';

/** Deploys an ERC-1271 wallet owned by `owner` (local/contracts/LocalSmartWallet.sol); returns its address. */
export async function deploySmartWallet(chain: LocalChain, owner: Address): Promise<Address> {
  const deployer = privateKeyToAccount(generatePrivateKey()).address;
  await chain.provider.request({ method: 'hardhat_impersonateAccount', params: [deployer] });
  await chain.provider.request({ method: 'hardhat_setBalance', params: [deployer, toHex(10n ** 18n)] });
  const data = encodeDeployData({ abi: LocalSmartWalletArtifact.abi, bytecode: LocalSmartWalletArtifact.bytecode as Hex, args: [owner] });
  const hash = await chain.provider.request({ method: 'eth_sendTransaction', params: [{ from: deployer, data }] });
  const receipt = (await chain.provider.request({ method: 'eth_getTransactionReceipt', params: [hash] })) as { contractAddress: Address; status: Hex };
  if (receipt.status !== '0x1') throw new Error('LocalSmartWallet deployment failed');
  return getAddress(receipt.contractAddress);
}

/** The official x402 client paying from a smart wallet: `from` is the wallet, its owner's key signs. */
export function smartWalletClient(wallet: Address, owner: PrivateKeyAccount): x402Client {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: toClientEvmSigner({ address: wallet, signTypedData: (message) => owner.signTypedData(message) }) });
  return client;
}
