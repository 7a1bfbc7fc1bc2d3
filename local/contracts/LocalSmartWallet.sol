// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title LocalSmartWallet
 * @notice A minimal ERC-1271 contract wallet for the LOCAL test chain, the shape of many one-owner
 * smart wallets: a signature is the wallet's when its owner's key signed the hash (65 bytes). It
 * holds tokens like any account, so tests can pay with x402 as a smart wallet: the payment's
 * `from` is this contract, and its signature recovers to the owner, not to `from`.
 */
contract LocalSmartWallet is IERC1271 {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(hash, signature);
        return error == ECDSA.RecoverError.NoError && signer == owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
